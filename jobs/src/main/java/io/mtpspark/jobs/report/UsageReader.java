package io.mtpspark.jobs.report;

import static io.mtpspark.jobs.summary.GenerationSums.doubleOf;
import static io.mtpspark.jobs.summary.GenerationSums.longOf;

import com.google.inject.Inject;
import io.mtpspark.jobs.generate.RunRows;
import io.mtpspark.jobs.summary.GenerationSums;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Reads the generation job's outputs under one or more output roots (local or {@code s3a://}) and reduces them
 * with Spark to what the cost model needs: per (run, domain) sums of {@code generations}, and the
 * {@code task_stats} rows (one per committed task, so they are few enough to collect). Partition values are read
 * as strings, so a run id such as {@code 2026-11-26} or {@code 007} stays exactly what the job wrote.
 */
public final class UsageReader {
    private static final String INFER_PARTITION_TYPES = "spark.sql.sources.partitionColumnTypeInference.enabled";

    private final SparkSession spark;

    /**
     * What the roots hold.
     *
     * @param rootOfRun the output root each run was found under (where its manifest is)
     */
    public record Usage(List<DomainUsage> domains, List<TaskUsage> tasks, Map<String, String> rootOfRun) {
        /** Each run's billed seconds: the sum of its committed tasks' wall time. */
        public Map<String, Double> taskSeconds() {
            Map<String, Double> seconds = new LinkedHashMap<>();
            tasks.forEach(t -> seconds.merge(t.runId(), t.wallMs() / 1000, Double::sum));
            return seconds;
        }
    }

    @Inject
    public UsageReader(SparkSession spark) {
        this.spark = spark;
    }

    public Usage read(List<String> roots) {
        String previous = spark.conf().getOption(INFER_PARTITION_TYPES).getOrElse(() -> null);
        spark.conf().set(INFER_PARTITION_TYPES, "false");
        try {
            List<DomainUsage> domains = new ArrayList<>();
            List<TaskUsage> tasks = new ArrayList<>();
            Map<String, String> rootOfRun = new LinkedHashMap<>();
            for (String root : roots) {
                String base = root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
                if (exists(base + "/generations")) {
                    for (DomainUsage u : domainUsage(RunRows.current(spark.read().parquet(base + "/generations")))) {
                        String earlier = rootOfRun.putIfAbsent(u.runId(), base);
                        if (earlier != null && !earlier.equals(base)) {
                            throw new IllegalArgumentException("run " + u.runId() + " appears under both " + earlier
                                    + " and " + base + "; run ids must be unique across --runs");
                        }
                        domains.add(u);
                    }
                }
                if (exists(base + "/task_stats")) {
                    tasks.addAll(taskUsage(spark.read().parquet(base + "/task_stats")));
                }
            }
            if (domains.isEmpty()) {
                throw new IllegalArgumentException("no generations found under " + String.join(", ", roots)
                        + " (expected <root>/generations/run_id=…)");
            }
            return new Usage(domains, tasks, rootOfRun);
        } finally {
            if (previous == null) {
                spark.conf().unset(INFER_PARTITION_TYPES);
            } else {
                spark.conf().set(INFER_PARTITION_TYPES, previous);
            }
        }
    }

    static List<DomainUsage> domainUsage(Dataset<Row> generations) {
        List<DomainUsage> out = new ArrayList<>();
        for (Row r : GenerationSums.by(generations, "run_id", "domain")) {
            out.add(new DomainUsage(r.getString(0), r.getString(1), longOf(r, "rows"), longOf(r, "errors"),
                    longOf(r, "tokens"), longOf(r, "passes"), doubleOf(r, "wall_ms"), longOf(r, "s_rows"),
                    longOf(r, "s_tokens"), doubleOf(r, "s_ms"), longOf(r, "ar_tokens"), doubleOf(r, "ar_ms"),
                    longOf(r, "mtp_rows") == 0));
        }
        return out;
    }

    static List<TaskUsage> taskUsage(Dataset<Row> taskStats) {
        List<TaskUsage> out = new ArrayList<>();
        Dataset<Row> rows = taskStats.select("run_id", "partition_id", "attempt", "executor_id", "host", "device", "k",
                "rows", "failed_rows", "generated_tokens", "forward_passes", "accept_histogram", "wall_ms",
                "measured_speedup", "decoder_steps", "predicted_tokens_per_s", "forward_tokens_per_s");
        for (Row r : rows.collectAsList()) {
            int h = r.fieldIndex("accept_histogram");
            long[] histogram = r.isNullAt(h) ? new long[0]
                    : r.<Long>getList(h).stream().mapToLong(v -> v == null ? 0 : v).toArray();
            int s = r.fieldIndex("measured_speedup");
            out.add(new TaskUsage(r.getString(0), r.getInt(1), r.getInt(2), r.getString(3), r.getString(4),
                    r.getString(5), r.getInt(6), r.getLong(7), r.getLong(8), r.getLong(9), r.getLong(10), histogram,
                    r.getDouble(12), r.isNullAt(s) ? null : r.getDouble(s), r.isNullAt(14) ? null : r.getString(14),
                    r.isNullAt(15) ? null : r.getDouble(15), r.isNullAt(16) ? null : r.getDouble(16)));
        }
        return out;
    }

    private boolean exists(String location) {
        try {
            Path path = new Path(location);
            FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
            return fs.exists(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check " + location, e);
        }
    }
}
