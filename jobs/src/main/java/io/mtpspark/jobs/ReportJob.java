package io.mtpspark.jobs;

import com.google.inject.Guice;
import io.mtpspark.infra.config.ConfigBinder;
import io.mtpspark.infra.config.ConfigSource;
import io.mtpspark.infra.config.ConfigValues;
import io.mtpspark.jobs.cli.ReportOptions;
import io.mtpspark.jobs.inject.InfraKeys;
import io.mtpspark.jobs.inject.ReportModule;
import io.mtpspark.jobs.report.CostLine;
import io.mtpspark.jobs.report.ReportRun;
import io.mtpspark.jobs.spark.LocalSparkDefaults;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;

/**
 * The cost report Spark job: {@code spark-submit --class io.mtpspark.jobs.ReportJob mtp-jobs-assembly.jar --runs
 * s3a://…/ --out s3a://…/reports/}. Like {@link GenerateJob} it only parses options, gets the session, wires the
 * services with Guice and runs one {@link ReportRun}: what bulk generation cost, and what multi-token prediction
 * saved against autoregressive decoding, as Parquet tables and one static {@code dashboard.html}.
 */
public final class ReportJob {
    private ReportJob() {
    }

    public static void main(String[] args) {
        ConfigValues config = parse(args);
        ReportOptions options = ConfigBinder.bind(ReportOptions.class, config);
        SparkSession spark = LocalSparkDefaults.builder("mtp-report", options.master()).getOrCreate();
        try {
            ReportRun.Result result = run(spark, config, options);
            System.out.print(render(result));
        } finally {
            spark.stop();
        }
    }

    /** Runs the report in an existing session (tests and embedding). */
    public static ReportRun.Result run(SparkSession spark, ConfigValues config, ReportOptions options) {
        return Guice.createInjector(new ReportModule(config, options, spark)).getInstance(ReportRun.class).run();
    }

    /** Command line &gt; {@code --config-file} &gt; {@code MTP_*} environment; unknown options are rejected. */
    public static ConfigValues parse(String... args) {
        ConfigValues config = ConfigSource.builder().commandLine(args).environment(System.getenv(), "MTP_").build();
        List<String> known = new ArrayList<>(ConfigBinder.keysOf(ReportOptions.class));
        known.addAll(InfraKeys.KEYS);
        config.rejectUnknown(known);
        return config;
    }

    /** The lines the CLI prints: one per run, the total, and where the outputs are. */
    public static String render(ReportRun.Result result) {
        StringBuilder sb = new StringBuilder();
        for (CostLine l : result.data().byRun()) {
            sb.append(line("run " + l.runId() + " (" + l.day() + ", " + l.instanceType() + ")", l));
        }
        if (result.data().total() != null) {
            sb.append(line("total", result.data().total()));
        }
        sb.append("tables: ").append(String.join(" ", result.tables().values())).append('\n');
        sb.append("dashboard: ").append(result.dashboard()).append('\n');
        return sb.toString();
    }

    /**
     * One line of the report. A run that decoded autoregressively throughout (one token per pass, and so its own
     * counterfactual) says so instead of showing a speedup of 1 and "saved $0.000000": it had no MTP to save with.
     */
    static String line(String label, CostLine l) {
        String head = String.format(Locale.ROOT, "%s: %d rows, %d generated tokens, %.1f task-s, %s (%s per 1M "
                        + "tokens), ", label, l.rows(), l.generatedTokens(), l.computeSeconds(), usd(l.costUsd()),
                l.usdPerMillionTokens() == null ? "n/a" : usd(l.usdPerMillionTokens()));
        if (l.forwardPasses() > 0 && l.generatedTokens() == l.forwardPasses() && l.savingsUsd() == 0) {
            return head + "decoded autoregressively: no MTP savings\n";
        }
        return head + String.format(Locale.ROOT, "speedup %.2fx%s, autoregressive would cost %s, saved %s%n",
                l.measuredSpeedup(), l.speedupAssumed() ? " (partly assumed)" : "", usd(l.arCostUsd()),
                usd(l.savingsUsd()));
    }

    private static String usd(double v) {
        return String.format(Locale.ROOT, v < 0 ? "-$%.6f" : "$%.6f", Math.abs(v));
    }
}
