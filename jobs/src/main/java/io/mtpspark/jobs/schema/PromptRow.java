package io.mtpspark.jobs.schema;

import java.io.Serializable;

/**
 * One input row as the generator sees it. The prompt arrives as raw bytes so invalid UTF-8 can be reported as a
 * row error instead of being silently replaced; the optional per-row settings are null when the column is absent
 * or the value is null.
 */
public record PromptRow(String id, byte[] promptBytes, String domain, Integer maxTokens, Double temperature,
                        Long seed) implements Serializable {
}
