package io.mtpspark.infra.s3;

import java.util.Objects;

/**
 * How the S3 client authenticates: the AWS default provider chain (environment, profile, instance profile, IRSA),
 * which is what production uses, or static keys for tests and S3-compatible stores. The static variant never
 * prints its secret, so settings can be logged safely.
 */
public sealed interface S3Credentials permits S3Credentials.DefaultChain, S3Credentials.StaticKeys {

    static S3Credentials defaultChain() {
        return new DefaultChain();
    }

    static S3Credentials staticKeys(String accessKeyId, String secretAccessKey) {
        return new StaticKeys(accessKeyId, secretAccessKey);
    }

    /** The SDK's default credentials provider chain. */
    record DefaultChain() implements S3Credentials {
        @Override
        public String toString() {
            return "default-chain";
        }
    }

    /** Fixed keys; {@link #toString()} redacts both. */
    record StaticKeys(String accessKeyId, String secretAccessKey) implements S3Credentials {
        public StaticKeys {
            Objects.requireNonNull(accessKeyId, "accessKeyId");
            Objects.requireNonNull(secretAccessKey, "secretAccessKey");
            if (accessKeyId.isBlank() || secretAccessKey.isBlank()) {
                throw new IllegalArgumentException("static S3 credentials need a non-blank access key and secret key");
            }
        }

        @Override
        public String toString() {
            return "static-keys(redacted)";
        }
    }
}
