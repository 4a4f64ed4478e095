package io.mtpspark.engine.session;

/**
 * The one validation of generation settings, shared by the engine CLI, the Spark job's options and the job's
 * per-row values, so a bad value gets the same refusal with the same words wherever it is given. Each check takes
 * the name the user wrote ({@code --max-tokens} on a command line, {@code max_tokens} in an input row) and returns
 * the value when it is acceptable, else throws {@link IllegalArgumentException} naming it.
 */
public final class GenerationChecks {
    private GenerationChecks() {
    }

    /** Tokens to generate: at least 1 (0 would silently produce nothing), at most {@code Integer.MAX_VALUE}. */
    public static int maxTokens(String name, long value) {
        if (value < 1 || value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + value);
        }
        return (int) value;
    }

    /** Mask tokens per MTP step: 0 (all of the adapter's) or more. */
    public static int k(String name, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must be >= 0 (0 = all of the adapter's), got " + value);
        }
        return value;
    }

    /** An MTP decoder's k against the adapter's K (the mask tokens it was trained with). */
    public static int kWithinAdapter(int k, int adapterK) {
        if (k < 1 || k > adapterK) {
            throw new IllegalArgumentException("--k " + k + " is outside 1.." + adapterK
                    + " (the adapter was trained with " + adapterK + " mask tokens)");
        }
        return k;
    }

    public static double temperature(String name, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(name + " must be a finite number >= 0, got " + value);
        }
        return value;
    }

    public static int topK(String name, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must be >= 0, got " + value);
        }
        return value;
    }

    public static double topP(String name, double value) {
        if (!(value > 0 && value <= 1)) {
            throw new IllegalArgumentException(name + " must be in (0, 1], got " + value);
        }
        return value;
    }

    /**
     * Largest prompt accepted, in UTF-8 bytes: far beyond what any context holds (128k tokens are ~0.5 MB of
     * text), small enough that tokenising it cannot stall a task for minutes before it is found too long.
     */
    public static final int MAX_PROMPT_BYTES = 2 << 20;

    public static int promptBytes(String name, int bytes) {
        if (bytes > MAX_PROMPT_BYTES) {
            throw new IllegalArgumentException(name + " is " + bytes + " bytes, over the limit of " + MAX_PROMPT_BYTES
                    + " bytes (no context holds that much)");
        }
        return bytes;
    }

    /**
     * A prompt must have some text: an empty one would generate from BOS alone, which nobody asks for. The message
     * tells an empty prompt from a blank one (whitespace only), since the fix differs.
     */
    public static String prompt(String name, String text) {
        if (text == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        if (text.isEmpty()) {
            throw new IllegalArgumentException(name + " is empty");
        }
        if (text.isBlank()) {
            throw new IllegalArgumentException(name + " is blank (whitespace only)");
        }
        return text;
    }

    /**
     * A whole number given as a floating-point value (a JSON {@code 1.5} in an integer field): refused rather than
     * truncated, and refused when out of {@code long} range.
     */
    public static long integer(String name, double value) {
        if (value != Math.rint(value) || Double.isInfinite(value) || Math.abs(value) >= 0x1p63) {
            throw new IllegalArgumentException(name + " must be an integer, got " + plain(value));
        }
        return (long) value;
    }

    private static String plain(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
