package io.mtpspark.jobs.summary;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What a run produced, aggregated from its {@code generations} rows: totals and, per {@code domain}, rows, errors,
 * tokens, tokens per forward pass and the measured speedup (job decoder tokens/s ÷ autoregressive tokens/s over
 * the domain's sampled rows). Tokens/s here is per sequence (tokens over the summed per-row {@code wall_ms}): at
 * batch size 1 that is what a task thread delivers; batched rows overlap, so a task then delivers several
 * sequences' rate at once. {@code wallSeconds} is the whole invocation, so tokens over it is the cluster's throughput.
 */
public record RunSummary(String runId, long rows, long errors, long generatedTokens, double tokensPerPass,
                         double tokensPerSecondPerSequence, Double measuredSpeedup, List<Domain> domains,
                         double wallSeconds) {

    /** One domain's line of the summary; {@code measuredSpeedup} is null when none of its rows was sampled. */
    public record Domain(String domain, long rows, long errors, long generatedTokens, double tokensPerPass,
                         Double measuredSpeedup) {
    }

    public static RunSummary of(String runId, Dataset<Row> generations, double wallSeconds) {
        Dataset<Row> g = generations.withColumn("domain", coalesce(col("domain"), lit("(none)")));
        Row total = aggregate(g.groupBy()).first();
        List<Domain> domains = new ArrayList<>();
        for (Row r : aggregate(g.groupBy(col("domain"))).orderBy(col("domain")).collectAsList()) {
            domains.add(new Domain(r.getString(r.fieldIndex("domain")), r.getLong(r.fieldIndex("rows")),
                    r.getLong(r.fieldIndex("errors")), longOrZero(r, "tokens"), perPass(r), speedup(r)));
        }
        double wallMsSum = doubleOrZero(total, "wall_ms");
        long tokens = longOrZero(total, "tokens");
        return new RunSummary(runId, total.getLong(total.fieldIndex("rows")), total.getLong(total.fieldIndex("errors")),
                tokens, perPass(total), wallMsSum == 0 ? 0 : tokens * 1000.0 / wallMsSum, speedup(total),
                List.copyOf(domains), wallSeconds);
    }

    private static Dataset<Row> aggregate(org.apache.spark.sql.RelationalGroupedDataset grouped) {
        return grouped.agg(
                count(lit(1)).as("rows"),
                sum(when(col("finish_reason").equalTo("error"), 1L).otherwise(0L)).as("errors"),
                sum(col("completion_tokens").cast("long")).as("tokens"),
                sum(col("forward_passes").cast("long")).as("passes"),
                sum(col("wall_ms")).as("wall_ms"),
                sum(when(col("speedup_sample"), col("completion_tokens").cast("long"))).as("s_tokens"),
                sum(when(col("speedup_sample"), col("wall_ms"))).as("s_ms"),
                sum(when(col("speedup_sample"), col("ar_completion_tokens").cast("long"))).as("ar_tokens"),
                sum(when(col("speedup_sample"), col("ar_wall_ms"))).as("ar_ms"));
    }

    private static double perPass(Row r) {
        long passes = longOrZero(r, "passes");
        return passes == 0 ? 0 : longOrZero(r, "tokens") / (double) passes;
    }

    private static Double speedup(Row r) {
        double sMs = doubleOrZero(r, "s_ms");
        double arMs = doubleOrZero(r, "ar_ms");
        long arTokens = longOrZero(r, "ar_tokens");
        if (sMs == 0 || arMs == 0 || arTokens == 0) {
            return null;
        }
        return (longOrZero(r, "s_tokens") / sMs) / (arTokens / arMs);
    }

    private static long longOrZero(Row r, String field) {
        int i = r.fieldIndex(field);
        return r.isNullAt(i) ? 0 : r.getLong(i);
    }

    private static double doubleOrZero(Row r, String field) {
        int i = r.fieldIndex(field);
        return r.isNullAt(i) ? 0 : r.getDouble(i);
    }

    /** The human-readable summary the CLI prints. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "run %s: %d rows, %d errors, %d generated tokens, %.2f tokens/pass, "
                        + "%.0f tokens/s per sequence, %.0f tokens/s overall, measured speedup %s, %.1f s%n",
                runId, rows, errors, generatedTokens, tokensPerPass, tokensPerSecondPerSequence,
                wallSeconds == 0 ? 0 : generatedTokens / wallSeconds, format(measuredSpeedup), wallSeconds));
        sb.append(String.format(Locale.ROOT, "  %-12s %6s %6s %8s %9s %8s%n", "domain", "rows", "errors", "tokens",
                "tok/pass", "speedup"));
        for (Domain d : domains) {
            sb.append(String.format(Locale.ROOT, "  %-12s %6d %6d %8d %9.2f %8s%n", d.domain(), d.rows(), d.errors(),
                    d.generatedTokens(), d.tokensPerPass(), format(d.measuredSpeedup())));
        }
        return sb.toString();
    }

    private static String format(Double speedup) {
        return speedup == null ? "n/a" : String.format(Locale.ROOT, "%.2fx", speedup);
    }
}
