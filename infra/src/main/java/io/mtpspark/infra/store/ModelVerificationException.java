package io.mtpspark.infra.store;

/**
 * Model content failed verification against its {@code manifest.json}: a checksum or size mismatch, a listed file
 * that is missing, or no manifest at all where one is required. The message names the object and the expected and
 * actual values, e.g. {@code checksum mismatch for s3://bucket/models/x/model.bin: expected sha256 ab.. got cd..}.
 */
public class ModelVerificationException extends ModelStoreException {
    public ModelVerificationException(String message) {
        super(message);
    }

    /**
     * No manifest where one is required. The remedy names the command and the option a user types, not an API:
     * {@code ./mtp manifest DIR} writes one, {@code --allow-unverified-models} uses the model without.
     */
    public static ModelVerificationException noManifest(String what, String expected) {
        return new ModelVerificationException("no manifest for " + what + " (expected " + expected + "); create it "
                + "with ./mtp manifest DIR (before uploading, for S3) or pass --allow-unverified-models");
    }
}
