package io.mtpspark.jobs.report;

/**
 * What one domain of one run used, summed over its {@code generations} rows: row and error counts, tokens, forward
 * passes, the rows' own decode time, and the speedup sample (rows decoded both by the run's decoder and
 * autoregressively; their tokens and milliseconds per decoder). {@code autoregressive}: every row was decoded
 * autoregressively, so the speedup is 1 by definition.
 */
public record DomainUsage(String runId, String domain, long rows, long errors, long generatedTokens,
                          long forwardPasses, double rowWallMs, long sampleRows, long sampleTokens,
                          double sampleWallMs, long arTokens, double arWallMs, boolean autoregressive) {

    /** A domain of an MTP (or auto) run. */
    public DomainUsage(String runId, String domain, long rows, long errors, long generatedTokens, long forwardPasses,
                       double rowWallMs, long sampleRows, long sampleTokens, double sampleWallMs, long arTokens,
                       double arWallMs) {
        this(runId, domain, rows, errors, generatedTokens, forwardPasses, rowWallMs, sampleRows, sampleTokens,
                sampleWallMs, arTokens, arWallMs, false);
    }

    /**
     * The run decoder's tokens/s over autoregressive tokens/s on the sampled rows; null when nothing was sampled
     * or a timing is zero (no measurement, rather than a division by zero).
     */
    public Double measuredSpeedup() {
        if (autoregressive) {
            return 1.0;
        }
        if (sampleRows == 0 || sampleTokens == 0 || arTokens == 0 || !(sampleWallMs > 0) || !(arWallMs > 0)) {
            return null;
        }
        return (sampleTokens / sampleWallMs) / (arTokens / arWallMs);
    }
}
