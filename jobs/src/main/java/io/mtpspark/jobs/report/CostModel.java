package io.mtpspark.jobs.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The cost arithmetic, in plain Java. A run is billed for its tasks' wall time (one task owns one GPU or one set of
 * CPU threads from its first row to its last): seconds = Σ task wall_ms / 1000 and dollars = seconds / 3600 × the
 * instance type's price per task slot. The run's seconds are shared among its domains in proportion to their
 * rows' own decode time, so per-task overhead (model load, the speedup sample) is spread like the work.
 *
 * <p>Counterfactual: a domain whose sampled rows ran {@code s}× faster than autoregressive decoding would have
 * needed {@code s}× its seconds without MTP, so AR seconds = seconds × s and savings = AR dollars − dollars. An
 * autoregressive run has s = 1 by definition (no savings, nothing flagged). A domain without a usable sample (none,
 * zero or non-finite) is flagged {@code speedupAssumed} (shown as unmeasured) and counted at its run's speedup
 * measured on the other domains (time-weighted), so it neither pulls the run's figure toward 1× nor claims more
 * than was measured; only a run with no measurement at all counts at 1×. Speedups below 1 are kept: then MTP cost
 * money, and the report says so.
 */
public final class CostModel {
    /** The groupings the report tabulates besides (run, domain). */
    public enum Grouping { RUN, DAY, DOMAIN, TOTAL }

    private final PriceTable prices;

    public CostModel(PriceTable prices) {
        this.prices = prices;
    }

    /**
     * One line per (run, domain). {@code taskSeconds} holds each run's billed seconds from {@code task_stats};
     * a run missing there (no committed task statistics) is billed for its rows' own decode time instead.
     */
    public List<CostLine> byRunDomain(List<DomainUsage> usage, Map<String, Double> taskSeconds, Map<String, RunInfo> runs) {
        Map<String, Double> rowMsPerRun = new LinkedHashMap<>();
        Map<String, Long> rowsPerRun = new LinkedHashMap<>();
        for (DomainUsage u : usage) {
            rowMsPerRun.merge(u.runId(), u.rowWallMs(), Double::sum);
            rowsPerRun.merge(u.runId(), u.rows(), Long::sum);
        }
        Map<String, double[]> measuredPerRun = new LinkedHashMap<>(); // {seconds-weighted speedup, row ms}
        for (DomainUsage u : usage) {
            Double m = u.measuredSpeedup();
            if (m != null && m > 0 && !m.isInfinite()) {
                double[] acc = measuredPerRun.computeIfAbsent(u.runId(), k -> new double[2]);
                acc[0] += m * u.rowWallMs();
                acc[1] += u.rowWallMs();
            }
        }
        List<CostLine> lines = new ArrayList<>();
        for (DomainUsage u : usage) {
            RunInfo run = runs.get(u.runId());
            if (run == null) {
                throw new IllegalArgumentException("no run info for run " + u.runId());
            }
            PriceTable.InstancePrice price = prices.priceOf(run.instanceType());
            double runRowMs = rowMsPerRun.get(u.runId());
            double share = runRowMs > 0 ? u.rowWallMs() / runRowMs : u.rows() / (double) rowsPerRun.get(u.runId());
            double runSeconds = taskSeconds.getOrDefault(u.runId(), runRowMs / 1000);
            double seconds = runSeconds * share;
            Double measured = u.measuredSpeedup();
            boolean assumed = measured == null || !(measured > 0) || measured.isInfinite();
            double[] run0 = measuredPerRun.get(u.runId());
            double runSpeedup = run0 == null || !(run0[1] > 0) ? 1 : run0[0] / run0[1];
            double speedup = assumed ? runSpeedup : measured;
            double arSeconds = seconds * speedup;
            lines.add(new CostLine(u.runId(), run.day(), u.domain(), run.instanceType(), price.kind(), u.rows(),
                    u.errors(), u.generatedTokens(), u.forwardPasses(), seconds, arSeconds,
                    dollars(seconds, price), dollars(arSeconds, price), assumed));
        }
        lines.sort(Comparator.comparing(CostLine::day).thenComparing(CostLine::runId).thenComparing(CostLine::domain));
        return lines;
    }

    /** A task's own cost at its run's price. */
    public TaskCost taskCost(TaskUsage task, RunInfo run) {
        return new TaskCost(task, run.instanceType(), dollars(task.wallMs() / 1000, prices.priceOf(run.instanceType())));
    }

    /** The {@code n} tasks that held their slot longest, longest first. */
    public List<TaskCost> slowest(List<TaskUsage> tasks, Map<String, RunInfo> runs, int n) {
        return tasks.stream().sorted(Comparator.comparingDouble(TaskUsage::wallMs).reversed()
                        .thenComparing(TaskUsage::runId).thenComparingInt(TaskUsage::partitionId))
                .limit(n).map(t -> taskCost(t, runs.get(t.runId()))).toList();
    }

    /**
     * MTP forward passes by tokens emitted per pass, over all tasks: a pass that accepted {@code a} drafts emitted
     * {@code a + 1} tokens (histogram index a). Autoregressive passes (whole autoregressive tasks, and the
     * autoregressive steps of {@code auto} tasks, which their histograms leave out) are not MTP passes and are not
     * counted, so the chart never dilutes MTP acceptance with them.
     */
    public static List<PassBucket> passDistribution(List<TaskUsage> tasks) {
        Map<Integer, Long> byTokens = new TreeMap<>();
        for (TaskUsage t : tasks) {
            long[] h = t.acceptHistogram() == null ? new long[0] : t.acceptHistogram();
            for (int a = 0; a < h.length; a++) {
                if (h[a] > 0) {
                    byTokens.merge(a + 1, h[a], Long::sum);
                }
            }
        }
        return byTokens.entrySet().stream().map(e -> new PassBucket(e.getKey(), e.getValue())).toList();
    }

    /** Sums lines by {@code grouping}; ratios are recomputed from the sums. */
    public static List<CostLine> rollup(List<CostLine> lines, Grouping grouping) {
        Function<CostLine, String> key = switch (grouping) {
            case RUN -> l -> l.day() + "\u0000" + l.runId();
            case DAY -> CostLine::day;
            case DOMAIN -> CostLine::domain;
            case TOTAL -> l -> "";
        };
        Map<String, List<CostLine>> groups = new TreeMap<>();
        for (CostLine l : lines) {
            groups.computeIfAbsent(key.apply(l), k -> new ArrayList<>()).add(l);
        }
        List<CostLine> out = new ArrayList<>();
        for (List<CostLine> g : groups.values()) {
            CostLine first = g.get(0);
            out.add(new CostLine(
                    grouping == Grouping.RUN ? first.runId() : null,
                    grouping == Grouping.RUN || grouping == Grouping.DAY ? first.day() : null,
                    grouping == Grouping.DOMAIN ? first.domain() : null,
                    joined(g, CostLine::instanceType), joined(g, CostLine::deviceKind),
                    g.stream().mapToLong(CostLine::rows).sum(),
                    g.stream().mapToLong(CostLine::errors).sum(),
                    g.stream().mapToLong(CostLine::generatedTokens).sum(),
                    g.stream().mapToLong(CostLine::forwardPasses).sum(),
                    g.stream().mapToDouble(CostLine::computeSeconds).sum(),
                    g.stream().mapToDouble(CostLine::arComputeSeconds).sum(),
                    g.stream().mapToDouble(CostLine::costUsd).sum(),
                    g.stream().mapToDouble(CostLine::arCostUsd).sum(),
                    g.stream().anyMatch(CostLine::speedupAssumed)));
        }
        return out;
    }

    private static String joined(List<CostLine> lines, Function<CostLine, String> field) {
        return String.join("+", new TreeSet<>(lines.stream().map(field).toList()));
    }

    private static double dollars(double seconds, PriceTable.InstancePrice price) {
        return seconds / 3600 * price.usdPerSlotHour();
    }
}
