package io.mtpspark.engine.session;

/**
 * The one rule for prompt text that the CLI and the Spark job share: a prompt has at least one non-whitespace
 * character. The message tells an empty prompt from a blank one (whitespace only), since the fix differs.
 */
public final class PromptText {
    private PromptText() {
    }

    /** Returns {@code prompt}, or throws naming what is wrong with it. */
    public static String require(String prompt) {
        if (prompt.isEmpty()) {
            throw new IllegalArgumentException("prompt is empty");
        }
        if (prompt.isBlank()) {
            throw new IllegalArgumentException("prompt is blank (whitespace only)");
        }
        return prompt;
    }
}
