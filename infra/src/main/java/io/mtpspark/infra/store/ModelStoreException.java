package io.mtpspark.infra.store;

/**
 * A model or adapter could not be made available locally: the location does not exist, is not readable, or a
 * download failed. Subclass {@link ModelVerificationException} covers content that does not match its manifest.
 */
public class ModelStoreException extends RuntimeException {
    public ModelStoreException(String message) {
        super(message);
    }

    public ModelStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
