package io.mtpspark.jobs.cli;

import io.mtpspark.infra.config.DefaultValue;
import io.mtpspark.infra.config.Positive;
import java.util.List;
import java.util.Optional;

/**
 * Options of the cost report job, bound like {@link GenerateOptions} (command line, {@code --config-file},
 * {@code MTP_*} environment).
 *
 * @param runs                generation output roots, comma-separated (each holds {@code generations/},
 *                            {@code task_stats/}, {@code manifests/}); local or {@code s3a://}
 * @param out                 where the report's Parquet tables and {@code dashboard.html} go
 * @param prices              a price table JSON file replacing the shipped {@code prices-v1.json}
 * @param instanceType        price every run at this instance type, whatever its manifest says
 * @param defaultInstanceType for runs whose manifest records no instance type (local and demo runs)
 * @param slowest             how many of the slowest tasks to list
 * @param master              Spark master for local runs ({@code ./mtp report}); absent = what spark-submit set
 */
public record ReportOptions(
        List<String> runs,
        String out,
        Optional<String> prices,
        Optional<String> instanceType,
        @DefaultValue("local-cpu") String defaultInstanceType,
        @Positive @DefaultValue("15") int slowest,
        Optional<String> master) {

    public ReportOptions {
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("--runs: give at least one generation output root");
        }
        runs = List.copyOf(runs);
    }
}
