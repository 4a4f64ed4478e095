package io.mtpspark.infra.s3;

import java.lang.System.Logger.Level;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * Creates synchronous AWS SDK v2 {@link S3Client}s from {@link S3Settings}. The HTTP client is chosen explicitly
 * (Apache) because Spark puts several SDK HTTP implementations on the classpath and the SDK refuses to pick one.
 * Clients are thread-safe and meant to be shared for the life of the JVM (one per executor).
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
                .httpClientBuilder(ApacheHttpClient.builder()
                        .maxConnections(32)
                        .connectionTimeout(Duration.ofSeconds(10))
                        .socketTimeout(Duration.ofSeconds(60)));
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

    private static AwsCredentialsProvider credentialsProvider(S3Credentials credentials) {
        if (credentials instanceof S3Credentials.StaticKeys keys) {
            return StaticCredentialsProvider.create(AwsBasicCredentials.create(keys.accessKeyId(), keys.secretAccessKey()));
        }
        return DefaultCredentialsProvider.builder().build();
    }
}
