package io.mtpspark.jobs.generate;

import io.mtpspark.engine.EngineException;
import io.mtpspark.infra.store.ModelStoreException;
import io.mtpspark.infra.store.ModelVerificationException;

/**
 * The Spark job failed. Spark wraps an executor's exception in several layers of {@code SparkException} whose
 * messages carry stack traces; this finds the exception the user can act on (a model that fails verification, a
 * corrupt adapter, …) and puts its message first.
 */
public final class JobFailedException extends RuntimeException {
    private JobFailedException(String message, Throwable cause) {
        super(message, cause);
    }

    public static JobFailedException from(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ModelVerificationException || t instanceof ModelStoreException
                    || t instanceof EngineException) {
                return new JobFailedException("generation job failed: " + t.getMessage(), failure);
            }
        }
        // When the executor's exception could not travel as an object, Spark still quotes it in its message.
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String message = t.getMessage() == null ? "" : t.getMessage();
            for (Class<?> known : new Class<?>[]{ModelVerificationException.class, ModelStoreException.class,
                    EngineException.class}) {
                int at = message.indexOf(known.getName() + ": ");
                if (at >= 0) {
                    String quoted = message.substring(at + known.getName().length() + 2).lines().findFirst().orElse("");
                    return new JobFailedException("generation job failed: " + quoted, failure);
                }
            }
        }
        String first = failure.getMessage() == null ? failure.toString() : failure.getMessage().lines().findFirst().orElse("");
        return new JobFailedException("generation job failed: " + first, failure);
    }
}
