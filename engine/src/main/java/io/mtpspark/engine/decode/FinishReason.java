package io.mtpspark.engine.decode;

/** Why a generation ended: a stop token ({@code stop}) or the token/context budget ({@code length}). */
public enum FinishReason {
    STOP, LENGTH;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
