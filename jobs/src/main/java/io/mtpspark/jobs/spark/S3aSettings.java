package io.mtpspark.jobs.spark;

import io.mtpspark.infra.s3.S3Credentials;
import io.mtpspark.infra.s3.S3RetryPolicy;
import io.mtpspark.infra.s3.S3Settings;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * Translates the infra {@link S3Settings} into S3A's Hadoop settings, so the SDK clients (model store, manifest) and
 * Spark's S3A reader/writer talk to the same endpoint with the same credentials, and turns on the magic committer.
 * With the default credentials chain nothing credential-related is set and S3A uses its own default chain
 * (instance profile, IRSA, environment); keys, when given, go only into the Hadoop configuration, never into logs.
 * The settings' {@link S3RetryPolicy} becomes S3A's retry and timeout keys, so both clients retry alike.
 */
public final class S3aSettings {
    /** Spark SQL settings that route Parquet writes through the S3A committers. */
    public static final Map<String, String> COMMITTER_SQL_CONF = Map.of(
            "spark.sql.sources.commitProtocolClass", "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol",
            "spark.sql.parquet.output.committer.class", "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter");

    private S3aSettings() {
    }

    /** The Hadoop keys for these settings (unset keys are absent). */
    public static Map<String, String> hadoopConf(S3Settings s3) {
        Map<String, String> conf = new LinkedHashMap<>();
        // Without an endpoint (AWS itself) S3A's own region discovery and defaults apply.
        s3.endpoint().ifPresent(endpoint -> {
            conf.put("fs.s3a.endpoint", endpoint.toString());
            conf.put("fs.s3a.connection.ssl.enabled", Boolean.toString("https".equals(endpoint.getScheme())));
            conf.put("fs.s3a.endpoint.region", s3.region());
            conf.put("fs.s3a.path.style.access", Boolean.toString(s3.pathStyle()));
        });
        if (s3.credentials() instanceof S3Credentials.StaticKeys keys) {
            conf.put("fs.s3a.access.key", keys.accessKeyId());
            conf.put("fs.s3a.secret.key", keys.secretAccessKey());
            conf.put("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        }
        // One retry policy for both S3 clients. S3A's SDK clients get the job's retry strategy (S3aClientFactory:
        // attempts, backoff, and retries of responses cut mid-body, which S3A's own adaptive SDK retries miss).
        // S3A's invoker retries again around each operation (retry.limit / retry.throttle.limit, exponential from
        // retry.interval); each of its retries repeats the SDK's attempts, so it is kept to 2. Reads use the
        // classic stream, whose reads and reopenings go through the invoker: Hadoop 3.5's default (analytics)
        // stream failed a Parquet footer read on two SlowDowns in a row (S3FaultsTest). S3A floors its timeouts
        // at 15 s; the read timeout applies above that.
        S3RetryPolicy retries = s3.retries();
        conf.put("fs.s3a.s3.client.factory.impl", S3aClientFactory.class.getName());
        conf.put(S3aClientFactory.MAX_ATTEMPTS, Integer.toString(retries.maxAttempts()));
        conf.put(S3aClientFactory.RETRY_DELAY, retries.baseDelay().toMillis() + "ms");
        conf.put(S3aClientFactory.RETRY_MAX_DELAY, retries.maxDelay().toMillis() + "ms");
        conf.put("fs.s3a.attempts.maximum", Integer.toString(retries.maxAttempts() - 1));
        conf.put("fs.s3a.retry.limit", "2");
        conf.put("fs.s3a.retry.throttle.limit", "2");
        conf.put("fs.s3a.retry.interval", retries.baseDelay().toMillis() + "ms");
        conf.put("fs.s3a.retry.throttle.interval", retries.baseDelay().toMillis() + "ms");
        conf.put("fs.s3a.connection.timeout", retries.readTimeout().toMillis() + "ms");
        conf.put("fs.s3a.input.stream.type", "classic");
        conf.put("fs.s3a.committer.name", "magic");
        conf.put("fs.s3a.committer.magic.enabled", "true");
        return conf;
    }

    /**
     * Applies {@link #hadoopConf} to {@code target}. Only what the job's own options (and their retry defaults)
     * say is set, so a cluster's {@code spark.hadoop.fs.s3a.*} settings for anything else stay in force.
     */
    public static void apply(S3Settings s3, Configuration target) {
        hadoopConf(s3).forEach(target::set);
    }

    public static boolean isS3a(String location) {
        try {
            String scheme = URI.create(location).getScheme();
            return scheme != null && (scheme.equals("s3a") || scheme.equals("s3"));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
