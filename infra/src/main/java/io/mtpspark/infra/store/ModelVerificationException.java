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
}
