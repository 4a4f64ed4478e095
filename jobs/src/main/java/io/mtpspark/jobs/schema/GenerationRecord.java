package io.mtpspark.jobs.schema;

import java.io.Serializable;

/**
 * One row of the {@code generations} dataset (see {@link OutputSchemas#GENERATIONS}). Exactly one of
 * {@code completion} and {@code error} is set: a row either has a result or says why it has none. The
 * {@code ar_*} fields are set only for rows in the task's speedup sample, where the prompt was also decoded
 * autoregressively.
 */
public record GenerationRecord(
        String runId,
        String id,
        String domain,
        String promptHash,
        String configHash,
        Integer promptTokens,
        String completion,
        int completionTokens,
        String finishReason,
        String error,
        String decoder,
        int k,
        int forwardPasses,
        double tokensPerPass,
        double wallMs,
        String modelFingerprint,
        String adapterFingerprint,
        String backend,
        String executorId,
        int taskAttempt,
        boolean speedupSample,
        Integer arCompletionTokens,
        Double arWallMs) implements Serializable {

    public static final String ERROR = "error";

    public boolean failed() {
        return ERROR.equals(finishReason);
    }
}
