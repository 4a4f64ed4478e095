package io.mtpspark.jobs.report;

/**
 * One committed task of a run (one {@code task_stats} row): what it produced, how long it held its GPU or CPU
 * threads ({@code wallMs}), its accepted-length histogram and its own measured speedup (null without a sample).
 */
public record TaskUsage(String runId, int partitionId, int attempt, String executorId, String host, String device,
                        int k, long rows, long failedRows, long generatedTokens, long forwardPasses,
                        long[] acceptHistogram, double wallMs, Double measuredSpeedup) {

    public double tokensPerSecond() {
        return wallMs > 0 ? generatedTokens * 1000.0 / wallMs : 0;
    }
}
