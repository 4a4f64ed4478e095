package io.mtpspark.jobs.generate;

/**
 * The model, tokenizer or adapter cannot be used, found on the driver before any task starts (a missing location,
 * no manifest, an adapter with fewer mask tokens than {@code --k}); the message is one line naming the option.
 */
public final class ModelRejectedException extends RuntimeException {
    public ModelRejectedException(String message, Throwable cause) {
        super(message, cause);
    }
}
