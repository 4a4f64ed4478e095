package io.mtpspark.infra.s3;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.FileSystemException;
import java.time.Duration;
import javax.xml.stream.XMLStreamException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * Creates synchronous AWS SDK v2 {@link S3Client}s from {@link S3Settings}. The HTTP client is chosen explicitly
 * (Apache) because Spark puts several SDK HTTP implementations on the classpath and the SDK refuses to pick one.
 * Clients are thread-safe and meant to be shared for the life of the JVM (one per executor). Retries follow the
 * settings' {@link S3RetryPolicy} (see {@link #retryStrategy}).
 */
public final class S3ClientFactory {
    private static final System.Logger LOG = System.getLogger(S3ClientFactory.class.getName());

    private S3ClientFactory() {
    }

    public static S3Client create(S3Settings settings) {
        S3ClientBuilder builder = S3Client.builder()
                .region(Region.of(settings.region()))
                .forcePathStyle(settings.pathStyle())
                .credentialsProvider(credentialsProvider(settings.credentials()))
                .overrideConfiguration(c -> c.retryStrategy(retryStrategy(settings.retries())))
                .httpClientBuilder(ApacheHttpClient.builder()
                        .maxConnections(32)
                        .connectionTimeout(Duration.ofSeconds(10))
                        .socketTimeout(settings.retries().readTimeout()));
        if (settings.endpoint().isPresent()) {
            builder.endpointOverride(settings.endpoint().get());
            // S3-compatible stores often reject the SDK's newer default trailing checksums; send them only where
            // an operation requires one. Object integrity is still checked end to end by the model manifest.
            builder.requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED);
            builder.responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        } else {
            // Buckets outside the configured region are followed instead of failing with a 301.
            builder.crossRegionAccessEnabled(true);
        }
        // settings.toString() redacts credentials, so this line can never leak a key.
        LOG.log(Level.INFO, "creating S3 client: {0}", settings);
        return builder.build();
    }

    /**
     * The SDK's standard strategy (retries throttling, 5xx, I/O errors and timeouts), plus responses cut off
     * mid-body ({@link #brokenConnection}), with the policy's attempts and full-jitter exponential backoff for
     * throttling and other errors alike. Its circuit breaker is off: it stops retrying once a client-wide token
     * budget is spent, which under sustained SlowDown fails tasks that patient backoff would have finished.
     */
    public static RetryStrategy retryStrategy(S3RetryPolicy policy) {
        BackoffStrategy backoff = policy.baseDelay().isZero() ? BackoffStrategy.retryImmediately()
                : BackoffStrategy.exponentialDelay(policy.baseDelay(), policy.maxDelay());
        return AwsRetryStrategy.standardRetryStrategy().toBuilder()
                .maxAttempts(policy.maxAttempts())
                .backoffStrategy(backoff)
                .throttlingBackoffStrategy(backoff)
                .circuitBreakerEnabled(false)
                .retryOnException(S3ClientFactory::brokenConnection)
                .build();
    }

    /**
     * A response cut off by the network: the SDK retries a reset before the response, but one in the middle of an
     * XML body surfaces as "Could not parse XML response" (the parser swallows the socket error) and is not
     * retried by its own conditions. S3 does not send malformed XML, so a parse error means a cut body. A local
     * file error (a request body read from disk) is not the network's fault and is not retried.
     */
    public static boolean brokenConnection(Throwable t) {
        if (!(t instanceof SdkClientException)) {
            return false;
        }
        for (Throwable c = t.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            if (c instanceof XMLStreamException || c instanceof IOException && !(c instanceof FileSystemException)) {
                return true;
            }
        }
        return false;
    }

    private static AwsCredentialsProvider credentialsProvider(S3Credentials credentials) {
        if (credentials instanceof S3Credentials.StaticKeys keys) {
            return StaticCredentialsProvider.create(AwsBasicCredentials.create(keys.accessKeyId(), keys.secretAccessKey()));
        }
        return DefaultCredentialsProvider.builder().build();
    }
}
