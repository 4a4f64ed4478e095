package io.mtpspark.jobs.schema;

import java.io.Serializable;

/**
 * One row of the {@code generations} dataset (see {@link OutputSchemas#GENERATIONS}). Exactly one of
 * {@code completion} and {@code error} is set: a row either has a result or says why it has none. The
 * {@code ar_*} fields are set only for rows in the task's speedup sample, where the prompt was also decoded
 * autoregressively. Rows are keyed by ({@code id}, {@code sampleIndex}): with n samples per prompt a row id has n.
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
        Double arWallMs,
        int sampleIndex) implements Serializable {

    public static final String ERROR = "error";

    /** A record of a row's only sample (sample index 0). */
    public GenerationRecord(String runId, String id, String domain, String promptHash, String configHash,
                            Integer promptTokens, String completion, int completionTokens, String finishReason,
                            String error, String decoder, int k, int forwardPasses, double tokensPerPass,
                            double wallMs, String modelFingerprint, String adapterFingerprint, String backend,
                            String executorId, int taskAttempt, boolean speedupSample, Integer arCompletionTokens,
                            Double arWallMs) {
        this(runId, id, domain, promptHash, configHash, promptTokens, completion, completionTokens, finishReason,
                error, decoder, k, forwardPasses, tokensPerPass, wallMs, modelFingerprint, adapterFingerprint,
                backend, executorId, taskAttempt, speedupSample, arCompletionTokens, arWallMs, 0);
    }

    public boolean failed() {
        return ERROR.equals(finishReason);
    }
}
