package io.mtpspark.jobs.report;

/**
 * One line of the cost report: the usage and cost of a group of rows (a run's domain, a whole run, a day, a domain
 * across runs, or everything) and its autoregressive counterfactual. Grouping fields that a table does not group
 * by are null. Sums are stored; ratios are derived, so a roll-up of lines is the sum of its parts.
 *
 * @param computeSeconds   task seconds billed (GPU-seconds on GPU instance types, CPU task-slot seconds on CPU ones)
 * @param arComputeSeconds seconds autoregressive decoding would have needed: computeSeconds × measured speedup
 * @param speedupAssumed   some part had no speedup measurement and was counted at speedup 1 (no savings claimed)
 */
public record CostLine(String runId, String day, String domain, String instanceType, String deviceKind,
                       long rows, long errors, long generatedTokens, long forwardPasses, double computeSeconds,
                       double arComputeSeconds, double costUsd, double arCostUsd, boolean speedupAssumed) {

    public double errorRate() {
        return rows == 0 ? 0 : errors / (double) rows;
    }

    public double tokensPerPass() {
        return forwardPasses == 0 ? 0 : generatedTokens / (double) forwardPasses;
    }

    /** Generated tokens per billed task-second. */
    public double tokensPerSecond() {
        return computeSeconds > 0 ? generatedTokens / computeSeconds : 0;
    }

    /** Time-weighted speedup: counterfactual seconds over actual seconds (1 where assumed). */
    public double measuredSpeedup() {
        return computeSeconds > 0 ? arComputeSeconds / computeSeconds : 1;
    }

    public double computeHours() {
        return computeSeconds / 3600;
    }

    public double arComputeHours() {
        return arComputeSeconds / 3600;
    }

    /** What MTP saved: the counterfactual autoregressive cost minus the actual cost. */
    public double savingsUsd() {
        return arCostUsd - costUsd;
    }

    /** Dollars per million generated tokens; null without tokens. */
    public Double usdPerMillionTokens() {
        return generatedTokens == 0 ? null : costUsd * 1e6 / generatedTokens;
    }

    /** The same for autoregressive decoding. */
    public Double arUsdPerMillionTokens() {
        return generatedTokens == 0 ? null : arCostUsd * 1e6 / generatedTokens;
    }

    /** Effective price of one task-hour (a mix when the line spans instance types). */
    public double usdPerTaskHour() {
        return computeSeconds > 0 ? costUsd / computeHours() : 0;
    }
}
