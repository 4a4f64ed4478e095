package io.mtpspark.infra.config;

/**
 * A configuration value is missing, unknown or cannot be converted. The message always names the option as the
 * user would type it on the command line (for example {@code --max-tokens}) and, where it did not come from the
 * command line, where the value came from, so a user can fix the right file or variable.
 */
public class ConfigException extends RuntimeException {
    private final String key;

    public ConfigException(String key, String message) {
        super(message);
        this.key = key;
    }

    public ConfigException(String key, String message, Throwable cause) {
        super(message, cause);
        this.key = key;
    }

    /** The canonical (kebab-case) key the problem is about, or {@code null} if it concerns a whole record. */
    public String key() {
        return key;
    }
}
