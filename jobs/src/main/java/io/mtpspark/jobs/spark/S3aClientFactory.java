package io.mtpspark.jobs.spark;

import io.mtpspark.infra.s3.S3ClientFactory;
import io.mtpspark.infra.s3.S3RetryPolicy;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.s3a.DefaultS3ClientFactory;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;

/**
 * S3A's SDK clients with the job's {@link S3RetryPolicy} and retry conditions ({@link S3ClientFactory#retryStrategy}),
 * in place of S3A's own: its adaptive SDK retries do not retry a listing cut off mid-body (the SDK reports it as
 * unparseable XML and S3A's invoker does not retry that either, so a reset during a LIST failed the job's output
 * setup in {@code S3FaultsTest}), and their backoff is not configurable. Everything else is S3A's
 * ({@link DefaultS3ClientFactory}). Named by {@code fs.s3a.s3.client.factory.impl}; the policy travels in the
 * Hadoop configuration under {@link #MAX_ATTEMPTS}, {@link #RETRY_DELAY} and {@link #RETRY_MAX_DELAY}.
 */
public class S3aClientFactory extends DefaultS3ClientFactory {
    public static final String MAX_ATTEMPTS = "mtp.s3.max-attempts";
    public static final String RETRY_DELAY = "mtp.s3.retry-delay";
    public static final String RETRY_MAX_DELAY = "mtp.s3.retry-max-delay";

    @Override
    protected ClientOverrideConfiguration.Builder createClientOverrideConfiguration(
            S3ClientCreationParameters parameters, Configuration conf) throws IOException {
        S3RetryPolicy d = S3RetryPolicy.DEFAULT;
        S3RetryPolicy policy = new S3RetryPolicy(conf.getInt(MAX_ATTEMPTS, d.maxAttempts()),
                Duration.ofMillis(conf.getTimeDuration(RETRY_DELAY, d.baseDelay().toMillis(), TimeUnit.MILLISECONDS)),
                Duration.ofMillis(conf.getTimeDuration(RETRY_MAX_DELAY, d.maxDelay().toMillis(), TimeUnit.MILLISECONDS)),
                d.readTimeout()); // the read timeout is S3A's own fs.s3a.connection.timeout
        return super.createClientOverrideConfiguration(parameters, conf)
                .retryStrategy(S3ClientFactory.retryStrategy(policy));
    }
}
