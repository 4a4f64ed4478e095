package io.mtpspark.jobs.generate;

import static org.apache.spark.sql.functions.col;

import com.google.inject.Inject;
import com.google.inject.name.Named;
import io.mtpspark.infra.s3.S3Settings;
import io.mtpspark.infra.store.ModelStore;
import io.mtpspark.jobs.cli.GenerateOptions;
import io.mtpspark.jobs.export.TrainingExport;
import io.mtpspark.jobs.manifest.RunManifest;
import io.mtpspark.jobs.manifest.RunManifestWriter;
import io.mtpspark.jobs.progress.DriverProgress;
import io.mtpspark.jobs.progress.RowProgress;
import io.mtpspark.jobs.schema.OutputSchemas;
import io.mtpspark.jobs.spark.S3aSettings;
import io.mtpspark.jobs.stats.DecodingSummary;
import io.mtpspark.jobs.stats.TaskStats;
import io.mtpspark.jobs.summary.RunSummary;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.RecordComponent;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.CollectionAccumulator;

/**
 * One invocation of the generation job on the driver: check the model locations and the input before any task
 * ({@link ModelPreflight}, {@link InputReader}), skip what a resumed run already has ({@link ResumePlan}),
 * split the rest into partitions by id, let {@link GenerateTask}s generate on the executors, append the rows to
 * {@code generations/run_id=…}, then write the committed tasks' {@code task_stats} and the run manifest.
 *
 * <p>Why the rows cannot duplicate or vanish when Spark retries a task: partitions are a hash of the id, so a retry
 * sees the same rows; Spark's commit protocol (the magic committer on S3) publishes only the output of the attempt
 * that committed; and task statistics ride in an accumulator that Spark merges only for that successful attempt.
 */
public final class GenerateRun {
    private static final System.Logger LOG = System.getLogger(GenerateRun.class.getName());

    private final SparkSession spark;
    private final GenerateOptions options;
    private final S3Settings s3Settings;
    private final Map<String, String> infraConfig;
    private final RunManifestWriter manifestWriter;
    private final ModelStore modelStore;

    @Inject
    public GenerateRun(SparkSession spark, GenerateOptions options, S3Settings s3Settings,
                       @Named("infra-config") Map<String, String> infraConfig, RunManifestWriter manifestWriter,
                       ModelStore modelStore) {
        this.modelStore = modelStore;
        this.spark = spark;
        this.options = options;
        this.s3Settings = s3Settings;
        this.infraConfig = infraConfig;
        this.manifestWriter = manifestWriter;
    }

    public static String generationsPath(String output) {
        return strip(output) + "/generations";
    }

    public static String taskStatsPath(String output) {
        return strip(output) + "/task_stats";
    }

    public RunResult run() {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        String runId = options.runId().orElseGet(GenerateRun::newRunId);
        boolean s3 = S3aSettings.isS3a(options.input()) || S3aSettings.isS3a(options.output());
        if (s3) {
            S3aSettings.apply(s3Settings, spark.sparkContext().hadoopConfiguration());
        }
        ModelIdentities content = ModelPreflight.check(modelStore, options);
        String configHash = ConfigHash.of(options, content);
        String generations = generationsPath(options.output());
        StaleStaging.clear(generations, options.resume(), spark.sparkContext().hadoopConfiguration());
        // a local master's tasks run in this JVM: their engine loads and calibrates while the input is checked
        try (LocalWarmUp warm = LocalWarmUp.start(spark.sparkContext().isLocal(), GenerationSettings.of(options),
                infraConfig, content, spark.sparkContext().getConf().getInt("spark.task.cpus", 1));
             InputReader input = new InputReader(spark, options)) {
            Dataset<Row> rowsIn = input.read();
            long inputRows = input.rows();
            if (inputRows == 0) {
                throw new InputRejectedException(options.input(), List.of("it has no rows"));
            }
            // n samples per prompt: one row per (id, sample_index); outputs and resume are keyed by both
            Dataset<Row> prompts = Samples.expand(rowsIn, options.n());
            long sampleRows = options.n() == 1 ? inputRows : prompts.count();
            ResumePlan plan = !options.resume() ? ResumePlan.fresh(prompts)
                    : ResumePlan.of(prompts, sampleRows, exists(generations + "/run_id=" + runId)
                    ? spark.read().parquet(generations).where(col("run_id").equalTo(runId)) : null, runId, configHash,
                    options.retryErrors());
            if (plan.note() != null) {
                LOG.log(System.Logger.Level.INFO, plan.note());
            }
            return generate(runId, configHash, content, plan, rowsIn, inputRows, sampleRows, started, t0);
        }
    }

    private RunResult generate(String runId, String configHash, ModelIdentities content, ResumePlan plan,
                               Dataset<Row> input, long inputRows, long sampleRows, Instant started, long t0) {
        String generations = generationsPath(options.output());
        long skipped = plan.skipped();
        long todoRows = sampleRows - skipped;
        int partitions = options.partitions() > 0 ? options.partitions() : defaultPartitions(todoRows);
        boolean s3 = S3aSettings.isS3a(options.input()) || S3aSettings.isS3a(options.output());

        CollectionAccumulator<TaskStats> accumulator = spark.sparkContext().collectionAccumulator("mtp-task-stats");
        RowProgress progress = RowProgress.register(spark.sparkContext());
        GenerateTask task = new GenerateTask(GenerationSettings.of(options), runId, configHash, infraConfig,
                accumulator, content, progress);
        Dataset<Row> rows = plan.todo().repartition(partitions, col("id"))
                .mapPartitions(task, Encoders.row(OutputSchemas.GENERATIONS));
        Map<String, String> restore = s3 ? setSqlConf(S3aSettings.COMMITTER_SQL_CONF) : Map.of();
        try (DriverProgress line = DriverProgress.start(spark.sparkContext(), progress, todoRows,
                options.progressEvery())) {
            rows.write().mode(SaveMode.Append).partitionBy("run_id").parquet(generations);
        } catch (Exception e) {
            // Spark rethrows executor failures as SparkException, a checked exception Scala throws undeclared.
            throw JobFailedException.from(e);
        } finally {
            restoreSqlConf(restore);
        }

        List<TaskStats> stats = committedStats(accumulator.value());
        if (!stats.isEmpty()) {
            List<Row> statRows = stats.stream().map(OutputSchemas::toRow).toList();
            spark.createDataFrame(statRows, OutputSchemas.TASK_STATS).coalesce(1).write().mode(SaveMode.Append)
                    .partitionBy("run_id").parquet(taskStatsPath(options.output()));
        }

        // Read with the schema the job writes: inferring it from the Parquet footers would cost a Spark job, and
        // columns an older version's rows lack read as null, which RunRows and RunSummary count as absent.
        Dataset<Row> runRows = RunRows.current(spark.read().schema(OutputSchemas.GENERATIONS).parquet(generations)
                .where(col("run_id").equalTo(runId)));
        TrainingExport.Result export = options.export().map(format -> {
            String path = strip(options.output()) + "/exports/run_id=" + runId + "/" + format;
            Map<String, String> conf = s3 ? setSqlConf(S3aSettings.COMMITTER_SQL_CONF) : Map.of();
            try {
                return TrainingExport.write(runRows.where(col("config_hash").equalTo(configHash)), input, format,
                        options.dedupe(), options.chatSettings(), infraConfig, options.model(), path);
            } finally {
                restoreSqlConf(conf);
            }
        }).orElse(null);
        double wallSeconds = (System.nanoTime() - t0) / 1e9;
        DecodingSummary decoding = DecodingSummary.of(stats);
        double taskSeconds = stats.stream().mapToDouble(TaskStats::wallMs).sum() / 1000;
        RunSummary summary = RunSummary.of(runId, runRows, wallSeconds, taskSeconds,
                decoding == null ? null : decoding.line());
        long generated = stats.stream().mapToLong(TaskStats::rows).sum();
        long failed = stats.stream().mapToLong(TaskStats::failedRows).sum();
        RunManifest manifest = new RunManifest(runId, engineVersion(), spark.version(), iso(started),
                iso(Instant.now()), options.input(), configHash, optionsForManifest(),
                content.model(), content.adapter(),
                stats.stream().map(s -> s.backend() + " / " + s.device()).distinct().sorted().toList(),
                new RunManifest.Counts(inputRows, skipped, generated, failed, summary.rows()),
                outputs(generations + "/run_id=" + runId, taskStatsPath(options.output()) + "/run_id=" + runId,
                        export),
                new RunManifest.Throughput(summary.tokensPerSecondOverall(), summary.tokensPerSecondPerTaskSlot(),
                        summary.tokensPerSecondPerSequence(), summary.measuredSpeedup()),
                decoding == null ? null : decoding.toManifest(), export);
        String manifestLocation = manifestWriter.write(options.output(), manifest).toString();
        return new RunResult(manifest, manifestLocation, summary, stats, plan.note());
    }

    private static Map<String, String> outputs(String generations, String taskStats, TrainingExport.Result export) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("generations", generations);
        out.put("task_stats", taskStats);
        if (export != null) {
            out.put("export", export.path());
        }
        return out;
    }

    /**
     * Two partitions per task slot keeps every core busy while one long partition finishes; with many rows,
     * partitions of at most ~500 rows keep a retried task cheap.
     */
    int defaultPartitions(long rows) {
        int slots = Math.max(1, spark.sparkContext().defaultParallelism());
        long byRows = (rows + 499) / 500;
        return (int) Math.max(1, Math.min(Math.max(rows, 1), Math.max(2L * slots, byRows)));
    }

    /**
     * One statistics row per partition. Spark merges accumulator updates of a result task only once per partition
     * (from the attempt that succeeded), so there is exactly one entry each; the defensive de-duplication keeps
     * the latest attempt should a future Spark change that.
     */
    static List<TaskStats> committedStats(List<TaskStats> all) {
        Map<Integer, TaskStats> byPartition = new HashMap<>();
        for (TaskStats s : all) {
            byPartition.merge(s.partitionId(), s, (a, b) -> a.attempt() >= b.attempt() ? a : b);
        }
        return byPartition.values().stream().sorted(Comparator.comparingInt(TaskStats::partitionId)).toList();
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

    private Map<String, String> setSqlConf(Map<String, String> values) {
        Map<String, String> previous = new LinkedHashMap<>();
        values.forEach((k, v) -> {
            previous.put(k, spark.conf().getOption(k).getOrElse(() -> null));
            spark.conf().set(k, v);
        });
        return previous;
    }

    private void restoreSqlConf(Map<String, String> previous) {
        previous.forEach((k, v) -> {
            if (v == null) {
                spark.conf().unset(k);
            } else {
                spark.conf().set(k, v);
            }
        });
    }

    private Map<String, Object> optionsForManifest() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (RecordComponent c : GenerateOptions.class.getRecordComponents()) {
            try {
                Object v = c.getAccessor().invoke(options);
                // Keys as users type them on the command line (max-tokens), values as bound.
                out.put(c.getName().replaceAll("([A-Z])", "-$1").toLowerCase(java.util.Locale.ROOT),
                        v instanceof java.util.Optional<?> o ? o.orElse(null) : v);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        // Infra settings without credentials: the endpoint and region say where data went, keys never appear.
        s3Settings.endpoint().ifPresent(e -> out.put("s3-endpoint", e.toString()));
        out.put("s3-region", s3Settings.region());
        out.put("s3-credentials", s3Settings.credentials().toString());
        return out;
    }

    public static String engineVersion() {
        try (InputStream in = GenerateRun.class.getResourceAsStream("/io/mtpspark/jobs/version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    static String newRunId() {
        return DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now()) + "-"
                + UUID.randomUUID().toString().substring(0, 8);
    }

    private static String iso(Instant t) {
        return DateTimeFormatter.ISO_INSTANT.format(t);
    }

    private static String strip(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }
}
