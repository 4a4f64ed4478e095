package io.mtpspark.infra.s3;

import java.time.Duration;
import java.util.Objects;

/**
 * How both S3 clients (the SDK's, in {@link S3ClientFactory}, and S3A's) ride out throttling (503 SlowDown),
 * server errors (500), dropped connections and stalls: up to {@code maxAttempts} tries of one request, with
 * exponential backoff and jitter from {@code baseDelay} up to {@code maxDelay}, and {@code readTimeout} of silence
 * on a connection before it counts as failed (a stalled request then becomes a retry instead of a hung task).
 *
 * <p>The defaults (10 attempts, 200 ms, 20 s, 60 s) replace the SDK's 4 attempts: a burst of SlowDown on a busy
 * prefix easily outlasts 4 tries, and a task failed over throttling costs far more than waiting for S3.
 */
public record S3RetryPolicy(int maxAttempts, Duration baseDelay, Duration maxDelay, Duration readTimeout) {
    public static final S3RetryPolicy DEFAULT = new S3RetryPolicy(10, Duration.ofMillis(200), Duration.ofSeconds(20),
            Duration.ofSeconds(60));

    public S3RetryPolicy {
        Objects.requireNonNull(baseDelay, "baseDelay");
        Objects.requireNonNull(maxDelay, "maxDelay");
        Objects.requireNonNull(readTimeout, "readTimeout");
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("S3 max attempts must be at least 1, got " + maxAttempts);
        }
        if (baseDelay.isNegative() || maxDelay.compareTo(baseDelay) < 0) {
            throw new IllegalArgumentException("S3 retry delays must satisfy 0 <= base <= max, got base " + baseDelay
                    + " and max " + maxDelay);
        }
        if (readTimeout.isNegative() || readTimeout.isZero()) {
            throw new IllegalArgumentException("S3 read timeout must be positive, got " + readTimeout);
        }
    }
}
