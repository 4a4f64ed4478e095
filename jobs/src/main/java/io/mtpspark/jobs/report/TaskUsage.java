package io.mtpspark.jobs.report;

/**
 * One committed task of a run (one {@code task_stats} row): what it produced, how long it held its GPU or CPU
 * threads ({@code wallMs}), its accepted-length histogram, its own measured speedup (null without a sample) and, for
 * {@code --decoder auto}, the policy's steps per configuration (JSON) with its predicted and measured forward
 * tokens/s (null otherwise).
 */
public record TaskUsage(String runId, int partitionId, int attempt, String executorId, String host, String device,
                        int k, long rows, long failedRows, long generatedTokens, long forwardPasses,
                        long[] acceptHistogram, double wallMs, Double measuredSpeedup, String decoderSteps,
                        Double predictedTokensPerSecond, Double forwardTokensPerSecond) {

    /** A task of a fixed decoder (no policy). */
    public TaskUsage(String runId, int partitionId, int attempt, String executorId, String host, String device,
                     int k, long rows, long failedRows, long generatedTokens, long forwardPasses,
                     long[] acceptHistogram, double wallMs, Double measuredSpeedup) {
        this(runId, partitionId, attempt, executorId, host, device, k, rows, failedRows, generatedTokens,
                forwardPasses, acceptHistogram, wallMs, measuredSpeedup, null, null, null);
    }

    public double tokensPerSecond() {
        return wallMs > 0 ? generatedTokens * 1000.0 / wallMs : 0;
    }
}
