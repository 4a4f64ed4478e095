package io.mtpspark.jobs.report;

import java.util.List;

/**
 * Everything one report shows: the (run, domain) lines and their roll-ups by run, day and domain plus the grand
 * total, the slowest tasks, the tokens-per-pass distribution, what {@code --decoder auto} chose per run, and the
 * price table used. Both the Parquet tables
 * and the dashboard are written from this one value, so they cannot disagree.
 */
public record ReportData(String generatedAt, List<String> sources, PriceTable prices, List<RunInfo> runs,
                         List<CostLine> byRunDomain, List<CostLine> byRun, List<CostLine> byDay,
                         List<CostLine> byDomain, CostLine total, List<TaskCost> slowestTasks,
                         List<PassBucket> passDistribution, List<RunPolicy> policies) {

    /** Builds the roll-ups from the (run, domain) lines. */
    public static ReportData of(String generatedAt, List<String> sources, PriceTable prices, List<RunInfo> runs,
                                List<CostLine> byRunDomain, List<TaskCost> slowestTasks, List<PassBucket> passes,
                                List<RunPolicy> policies) {
        List<CostLine> total = CostModel.rollup(byRunDomain, CostModel.Grouping.TOTAL);
        return new ReportData(generatedAt, List.copyOf(sources), prices, List.copyOf(runs), List.copyOf(byRunDomain),
                CostModel.rollup(byRunDomain, CostModel.Grouping.RUN), CostModel.rollup(byRunDomain, CostModel.Grouping.DAY),
                CostModel.rollup(byRunDomain, CostModel.Grouping.DOMAIN),
                total.isEmpty() ? null : total.get(0), List.copyOf(slowestTasks), List.copyOf(passes),
                List.copyOf(policies));
    }
}
