package io.mtpspark.engine;

import java.nio.file.Path;

/**
 * A failure the user can act on: a missing or corrupt model file, an unknown architecture or dtype, a tokenizer
 * that does not fit the model, a prompt that does not fit the context. The message always names the offending
 * input (file path, field or option) and the problem, so the CLI can print it without a stack trace.
 */
public class EngineException extends RuntimeException {
    private final Path file;

    public EngineException(String message) {
        this(null, message, null);
    }

    public EngineException(Path file, String message) {
        this(file, message, null);
    }

    public EngineException(Path file, String message, Throwable cause) {
        super(file == null ? message : file + ": " + message, cause);
        this.file = file;
    }

    /** The file the problem is about, or null when it is not about a file. */
    public Path file() {
        return file;
    }
}
