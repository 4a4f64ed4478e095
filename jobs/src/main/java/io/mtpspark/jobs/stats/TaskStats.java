package io.mtpspark.jobs.stats;

import java.io.Serializable;

/**
 * Statistics of one successful Spark task of a generation run (one row of {@code task_stats}). The speedup fields
 * come from the task's sample: rows decoded with the job's decoder in the task's batches and autoregressively at the
 * same batch size; they are null when the sample is empty. An autoregressive task has speedup 1 by definition.
 * With {@code --decoder auto}: the steps run with each configuration, the policy's predicted tokens/s and the
 * measured ones (both per second of forward time) and the forward cost model it used (JSON). Instances travel from executors to the driver inside an accumulator, which Spark merges only
 * for the attempt that finished successfully (and so committed its output).
 */
public record TaskStats(
        String runId,
        int stageId,
        int partitionId,
        int attempt,
        String executorId,
        String host,
        String backend,
        String device,
        String decoder,
        int k,
        long rows,
        long failedRows,
        long promptTokens,
        long generatedTokens,
        long forwardPasses,
        long[] acceptHistogram,
        double wallMs,
        long sampleRows,
        Double sampleMtpTokensPerSecond,
        Double sampleArTokensPerSecond,
        String modelFingerprint,
        String adapterFingerprint,
        String decoderSteps,
        Double predictedTokensPerSecond,
        Double forwardTokensPerSecond,
        String costModel) implements Serializable {

    public double tokensPerPass() {
        return forwardPasses == 0 ? 0 : generatedTokens / (double) forwardPasses;
    }

    public double generatedTokensPerSecond() {
        return wallMs <= 0 ? 0 : generatedTokens * 1000.0 / wallMs;
    }

    /**
     * MTP tokens/s ÷ AR tokens/s on the sample; 1 for autoregressive decoding, by definition, and so also for a task
     * whose rows ran no MTP pass ({@code auto} chose autoregressive throughout: timing it against autoregressive
     * would only measure noise, and book it as savings); null without a sample.
     */
    public Double measuredSpeedup() {
        if ("autoregressive".equals(decoder) || ranNoMtpPass()) {
            return 1.0;
        }
        if (sampleMtpTokensPerSecond == null || sampleArTokensPerSecond == null || sampleArTokensPerSecond == 0) {
            return null;
        }
        return sampleMtpTokensPerSecond / sampleArTokensPerSecond;
    }

    /** True when the accepted-length histogram (MTP passes only) is empty although the task decoded something. */
    private boolean ranNoMtpPass() {
        if (forwardPasses == 0 || acceptHistogram == null) {
            return false;
        }
        for (long c : acceptHistogram) {
            if (c != 0) {
                return false;
            }
        }
        return true;
    }
}
