package io.mtpspark.infra.s3;

import io.mtpspark.infra.config.ConfigException;
import io.mtpspark.infra.config.ConfigValues;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything needed to build an S3 client. Production leaves {@code endpoint} empty and uses the default
 * credentials chain; tests and S3-compatible stores set an endpoint (with path-style addressing) and static keys.
 * {@link #toString()} is safe to log: credentials are redacted.
 *
 * <p>Configuration keys read by {@link #fromConfig}: {@code s3-endpoint} (optional URI), {@code s3-region}
 * (default {@code us-east-1}), {@code s3-path-style} (default: true when an endpoint is set), {@code s3-access-key}
 * and {@code s3-secret-key} (both or neither; neither means the default chain), and the {@link S3RetryPolicy}:
 * {@code s3-max-attempts}, {@code s3-retry-delay}, {@code s3-retry-max-delay}, {@code s3-read-timeout}.
 */
public record S3Settings(Optional<URI> endpoint, String region, boolean pathStyle, S3Credentials credentials,
                         S3RetryPolicy retries) {
    public static final String DEFAULT_REGION = "us-east-1";

    public S3Settings {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(credentials, "credentials");
        Objects.requireNonNull(retries, "retries");
        if (region == null || region.isBlank()) {
            throw new IllegalArgumentException("S3 region must not be blank");
        }
        endpoint.ifPresent(uri -> {
            String scheme = uri.getScheme();
            if (!"http".equals(scheme) && !"https".equals(scheme) || uri.getHost() == null) {
                throw new IllegalArgumentException("S3 endpoint must be an http:// or https:// URL with a host, got " + uri);
            }
        });
    }

    /** With the default {@link S3RetryPolicy}. */
    public S3Settings(Optional<URI> endpoint, String region, boolean pathStyle, S3Credentials credentials) {
        this(endpoint, region, pathStyle, credentials, S3RetryPolicy.DEFAULT);
    }

    public S3Settings withRetries(S3RetryPolicy policy) {
        return new S3Settings(endpoint, region, pathStyle, credentials, policy);
    }

    /** AWS S3 in {@code region} with the default credentials chain (instance profile, IRSA, environment, ...). */
    public static S3Settings defaultChain(String region) {
        return new S3Settings(Optional.empty(), region, false, S3Credentials.defaultChain());
    }

    /** An S3-compatible endpoint with path-style addressing and static keys, e.g. a local test server. */
    public static S3Settings forEndpoint(URI endpoint, String region, String accessKeyId, String secretAccessKey) {
        return new S3Settings(Optional.of(endpoint), region, true, S3Credentials.staticKeys(accessKeyId, secretAccessKey));
    }

    public static S3Settings fromConfig(ConfigValues values) {
        Optional<URI> endpoint = values.get("s3-endpoint", URI.class);
        String region = values.get("s3-region").orElse(DEFAULT_REGION);
        boolean pathStyle = values.get("s3-path-style", Boolean.class).orElse(endpoint.isPresent());
        Optional<String> access = values.get("s3-access-key");
        Optional<String> secret = values.get("s3-secret-key");
        if (access.isPresent() != secret.isPresent()) {
            String missing = access.isPresent() ? "s3-secret-key" : "s3-access-key";
            throw new ConfigException(missing, "--s3-access-key and --s3-secret-key must be given together; --"
                    + missing + " is missing");
        }
        S3Credentials credentials = access.isPresent()
                ? S3Credentials.staticKeys(access.get(), secret.get())
                : S3Credentials.defaultChain();
        S3RetryPolicy d = S3RetryPolicy.DEFAULT;
        int attempts = values.get("s3-max-attempts", Integer.class).orElse(d.maxAttempts());
        Duration delay = values.get("s3-retry-delay", Duration.class).orElse(d.baseDelay());
        Duration maxDelay = values.get("s3-retry-max-delay", Duration.class).orElse(d.maxDelay());
        Duration readTimeout = values.get("s3-read-timeout", Duration.class).orElse(d.readTimeout());
        S3RetryPolicy retries;
        try {
            retries = new S3RetryPolicy(attempts, delay, maxDelay, readTimeout);
        } catch (IllegalArgumentException e) {
            String key = attempts < 1 ? "s3-max-attempts" : readTimeout.isNegative() || readTimeout.isZero()
                    ? "s3-read-timeout" : delay.isNegative() ? "s3-retry-delay" : "s3-retry-max-delay";
            throw new ConfigException(key, "invalid --" + key + ": " + e.getMessage(), e);
        }
        try {
            return new S3Settings(endpoint, region, pathStyle, credentials, retries);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("s3-endpoint", "invalid S3 settings: " + e.getMessage(), e);
        }
    }
}
