package io.mtpspark.jobs.summary;

import static io.mtpspark.jobs.summary.GenerationSums.doubleOf;
import static io.mtpspark.jobs.summary.GenerationSums.longOf;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What a run produced, aggregated from its {@code generations} rows: totals and, per {@code domain}, rows, errors,
 * tokens, tokens per forward pass and the measured speedup (job decoder tokens/s ÷ autoregressive tokens/s at the
 * same batch size over the domain's sampled rows; 1 by definition for autoregressive rows; null = unmeasured).
 * Three throughputs, each defined once and labelled the same in the console, the manifest and the dashboard:
 * <ul><li><b>overall</b>: generated tokens ÷ the job's wall time ({@code wallSeconds}: from the job's start in
 * a running Spark session until its outputs and statistics are written, so model load, input checks and the writes
 * are in it, the JVM's and the session's start and this summary's own read-back are not): what the user waited for
 * once Spark was up;</li>
 * <li><b>per task slot</b>: generated tokens ÷ the summed task wall time ({@code taskSeconds}), what one GPU or CPU
 * slot delivers and what the cost report bills (the dashboard's "Throughput");</li>
 * <li><b>per sequence</b>: generated tokens ÷ the summed per-row {@code wall_ms}; batched rows overlap, so a slot
 * delivers several sequences' rate at once.</li></ul>
 * {@code decoding} is one line on what {@code --decoder auto} chose (null for fixed decoders).
 */
public record RunSummary(String runId, long rows, long errors, long generatedTokens, double tokensPerPass,
                         double tokensPerSecondPerSequence, Double measuredSpeedup, List<Domain> domains,
                         double wallSeconds, double taskSeconds, String decoding) {

    /** One domain's line of the summary; {@code measuredSpeedup} is null when none of its rows was sampled. */
    public record Domain(String domain, long rows, long errors, long generatedTokens, double tokensPerPass,
                         Double measuredSpeedup) {
    }

    public static RunSummary of(String runId, Dataset<Row> generations, double wallSeconds) {
        return of(runId, generations, wallSeconds, 0, null);
    }

    public static RunSummary of(String runId, Dataset<Row> generations, double wallSeconds, double taskSeconds,
                                String decoding) {
        // one Spark job: the per-domain sums, added up here for the run's totals
        List<Domain> domains = new ArrayList<>();
        Sums total = new Sums(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        for (Row r : GenerationSums.by(generations, "domain")) {
            Sums d = Sums.of(r);
            domains.add(new Domain(r.getString(0), d.rows, d.errors, d.tokens, d.perPass(), d.speedup()));
            total = total.plus(d);
        }
        return new RunSummary(runId, total.rows, total.errors, total.tokens, total.perPass(),
                total.wallMs == 0 ? 0 : total.tokens * 1000.0 / total.wallMs, total.speedup(), List.copyOf(domains),
                wallSeconds, taskSeconds, decoding);
    }

    /** The sums behind one summary line. */
    private record Sums(long rows, long errors, long tokens, long passes, double wallMs, long sampleTokens,
                        double sampleMs, long arTokens, double arMs, long mtpRows) {
        static Sums of(Row r) {
            return new Sums(longOf(r, "rows"), longOf(r, "errors"), longOf(r, "tokens"), longOf(r, "passes"),
                    doubleOf(r, "wall_ms"), longOf(r, "s_tokens"), doubleOf(r, "s_ms"), longOf(r, "ar_tokens"),
                    doubleOf(r, "ar_ms"), longOf(r, "mtp_rows"));
        }

        Sums plus(Sums o) {
            return new Sums(rows + o.rows, errors + o.errors, tokens + o.tokens, passes + o.passes, wallMs + o.wallMs,
                    sampleTokens + o.sampleTokens, sampleMs + o.sampleMs, arTokens + o.arTokens, arMs + o.arMs,
                    mtpRows + o.mtpRows);
        }

        double perPass() {
            return passes == 0 ? 0 : tokens / (double) passes;
        }

        Double speedup() {
            if (mtpRows == 0) {
                return 1.0; // autoregressive decoding: speedup 1 by definition, nothing to measure
            }
            if (sampleMs == 0 || arMs == 0 || arTokens == 0) {
                return null;
            }
            return (sampleTokens / sampleMs) / (arTokens / arMs);
        }
    }

    public double tokensPerSecondOverall() {
        return wallSeconds == 0 ? 0 : generatedTokens / wallSeconds;
    }

    public double tokensPerSecondPerTaskSlot() {
        return taskSeconds == 0 ? 0 : generatedTokens / taskSeconds;
    }

    /** The human-readable summary the CLI prints. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "run %s: %d rows, %d errors, %d generated tokens, %.2f tokens/pass, "
                        + "measured speedup %s (vs autoregressive at the same batch size), %.1f s%n",
                runId, rows, errors, generatedTokens, tokensPerPass, format(measuredSpeedup), wallSeconds));
        sb.append(String.format(Locale.ROOT, "  throughput: %.0f tokens/s overall (job wall time: model load, input "
                        + "checks and writes included, JVM and Spark session start not), %.0f tokens/s per task slot (task time, as billed), %.0f "
                        + "tokens/s per sequence%n",
                tokensPerSecondOverall(), tokensPerSecondPerTaskSlot(), tokensPerSecondPerSequence));
        if (decoding != null) {
            sb.append("  decoder auto: ").append(decoding).append(System.lineSeparator());
        }
        sb.append(String.format(Locale.ROOT, "  %-12s %6s %6s %8s %9s %10s%n", "domain", "rows", "errors", "tokens",
                "tok/pass", "speedup"));
        for (Domain d : domains) {
            sb.append(String.format(Locale.ROOT, "  %-12s %6d %6d %8d %9.2f %10s%n", d.domain(), d.rows(), d.errors(),
                    d.generatedTokens(), d.tokensPerPass(), format(d.measuredSpeedup())));
        }
        return sb.toString();
    }

    private static String format(Double speedup) {
        return speedup == null ? "unmeasured" : String.format(Locale.ROOT, "%.2fx", speedup);
    }
}
