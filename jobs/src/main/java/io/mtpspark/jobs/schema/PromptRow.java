package io.mtpspark.jobs.schema;

import java.io.Serializable;

/**
 * One input row as the generator sees it. The prompt arrives as raw bytes so invalid UTF-8 can be reported as a
 * row error instead of being silently replaced; the optional per-row settings are null when the column is absent
 * or the value is null. {@code problem}, when set, says why the row cannot be generated (a value the input
 * contract could not convert, see {@link InputContract#normalise}); the row becomes an error row with it.
 */
public record PromptRow(String id, byte[] promptBytes, String domain, Integer maxTokens, Double temperature,
                        Long seed, String problem) implements Serializable {
    public PromptRow(String id, byte[] promptBytes, String domain, Integer maxTokens, Double temperature, Long seed) {
        this(id, promptBytes, domain, maxTokens, temperature, seed, null);
    }
}
