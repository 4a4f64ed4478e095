package io.mtpspark.jobs.schema;

import java.io.Serializable;

/**
 * One input row (one sample of it) as the generator sees it. The prompt arrives as raw bytes so invalid UTF-8 can be
 * reported as a row error instead of being silently replaced; {@code messagesJson} is the {@code messages} column
 * as JSON text (null for prompt rows); the optional per-row settings are null when the column is absent or the value
 * is null. {@code problem}, when set, says why the row cannot be generated (a value the input contract could not
 * convert, see {@link InputContract#normalise}); the row becomes an error row with it. {@code sampleIndex} is which
 * of the row's {@code n} samples this is.
 */
public record PromptRow(String id, byte[] promptBytes, String domain, Integer maxTokens, Double temperature,
                        Long seed, String problem, String messagesJson, Integer n, java.util.List<String> stop,
                        int sampleIndex) implements Serializable {

    /** A single-sample prompt row without chat fields. */
    public PromptRow(String id, byte[] promptBytes, String domain, Integer maxTokens, Double temperature, Long seed) {
        this(id, promptBytes, domain, maxTokens, temperature, seed, null, null, null, null, 0);
    }

    /** A prompt row whose settings could not be converted ({@code problem}), without chat fields. */
    public PromptRow(String id, byte[] promptBytes, String domain, Integer maxTokens, Double temperature, Long seed,
                     String problem) {
        this(id, promptBytes, domain, maxTokens, temperature, seed, problem, null, null, null, 0);
    }

    /** A row (one sample) with chat fields and no conversion problem. */
    public PromptRow(String id, byte[] promptBytes, String domain, Integer maxTokens, Double temperature, Long seed,
                     String messagesJson, Integer n, java.util.List<String> stop, int sampleIndex) {
        this(id, promptBytes, domain, maxTokens, temperature, seed, null, messagesJson, n, stop, sampleIndex);
    }
}
