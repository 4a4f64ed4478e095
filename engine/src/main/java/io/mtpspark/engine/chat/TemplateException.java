package io.mtpspark.engine.chat;

import io.mtpspark.engine.EngineException;

/**
 * A chat template that could not render a conversation: either the template itself refused it with
 * {@code raise_exception(message)} (then {@link #raised()} is true and the message is the template's own, e.g.
 * Gemma's "System role not supported"), or it failed (a syntax error, an unsupported construct).
 */
public final class TemplateException extends EngineException {
    private final boolean raised;

    public TemplateException(String message, boolean raised) {
        super(message);
        this.raised = raised;
    }

    /** True when the template called {@code raise_exception}. */
    public boolean raised() {
        return raised;
    }
}
