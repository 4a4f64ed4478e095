package io.mtpspark.jobs.generate;

import static org.apache.spark.sql.functions.col;

import com.google.inject.Inject;
import com.google.inject.name.Named;
import io.mtpspark.infra.s3.S3Settings;
import io.mtpspark.jobs.chat.PromptTemplate;
import io.mtpspark.jobs.cli.GenerateOptions;
import io.mtpspark.jobs.export.TrainingExport;
import io.mtpspark.jobs.manifest.RunManifest;
import io.mtpspark.jobs.manifest.RunManifestWriter;
import io.mtpspark.jobs.schema.InputContract;
import io.mtpspark.jobs.schema.OutputSchemas;
import io.mtpspark.jobs.spark.S3aSettings;
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
 * One invocation of the generation job on the driver: validate the input, skip what a resumed run already has,
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

    @Inject
    public GenerateRun(SparkSession spark, GenerateOptions options, S3Settings s3Settings,
                       @Named("infra-config") Map<String, String> infraConfig, RunManifestWriter manifestWriter) {
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
        Dataset<Row> input = readInput();
        long inputRows = input.count();
        Dataset<Row> prompts = Samples.expand(input, options.n());
        String configHash = ConfigHash.of(options);
        String generations = generationsPath(options.output());

        Dataset<Row> todo = prompts;
        long skipped = 0;
        if (options.resume() && exists(generations + "/run_id=" + runId)) {
            // keyed by (id, sample_index): a resumed run with a larger n generates only the new samples
            Dataset<Row> done = Samples.done(spark.read().option("mergeSchema", "true").parquet(generations)
                    .where(col("run_id").equalTo(runId)).where(col("config_hash").equalTo(configHash)));
            todo = prompts.join(done, prompts.col("id").equalTo(done.col("done_id"))
                    .and(prompts.col("sample_index").equalTo(done.col("done_sample"))), "left_anti");
            skipped = prompts.count() - todo.count();
            LOG.log(System.Logger.Level.INFO, "resume {0}: {1} of {2} rows already done", runId, skipped, inputRows);
        }
        long todoRows = (options.n() == 1 ? inputRows : prompts.count()) - skipped;
        int partitions = options.partitions() > 0 ? options.partitions() : defaultPartitions(todoRows);

        CollectionAccumulator<TaskStats> accumulator = spark.sparkContext().collectionAccumulator("mtp-task-stats");
        GenerateTask task = new GenerateTask(GenerationSettings.of(options), runId, configHash, infraConfig, accumulator);
        Dataset<Row> rows = todo.repartition(partitions, col("id"))
                .mapPartitions(task, Encoders.row(OutputSchemas.GENERATIONS));
        Map<String, String> restore = s3 ? setSqlConf(S3aSettings.COMMITTER_SQL_CONF) : Map.of();
        try {
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

        Dataset<Row> runRows = spark.read().parquet(generations).where(col("run_id").equalTo(runId));
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
        RunSummary summary = RunSummary.of(runId, runRows, wallSeconds);
        long generated = stats.stream().mapToLong(TaskStats::rows).sum();
        long failed = stats.stream().mapToLong(TaskStats::failedRows).sum();
        RunManifest manifest = new RunManifest(runId, engineVersion(), spark.version(), iso(started),
                iso(Instant.now()), options.input(), configHash, optionsForManifest(),
                stats.stream().map(TaskStats::modelFingerprint).filter(java.util.Objects::nonNull).findFirst().orElse(null),
                stats.stream().map(TaskStats::adapterFingerprint).filter(java.util.Objects::nonNull).findFirst().orElse(null),
                stats.stream().map(s -> s.backend() + " / " + s.device()).distinct().sorted().toList(),
                new RunManifest.Counts(inputRows, skipped, generated, failed, summary.rows()),
                outputs(generations + "/run_id=" + runId, taskStatsPath(options.output()) + "/run_id=" + runId,
                        export), export);
        String manifestLocation = manifestWriter.write(options.output(), manifest).toString();
        return new RunResult(manifest, manifestLocation, summary, stats);
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

    /** Reads and checks the input; refuses to start on missing columns, null or duplicate ids. */
    Dataset<Row> readInput() {
        Dataset<Row> raw;
        try {
            raw = options.jsonInput() ? spark.read().json(options.input()) : spark.read().parquet(options.input());
        } catch (RuntimeException e) {
            throw new InputRejectedException(options.input(), List.of("cannot read it: " + e.getMessage()));
        }
        if (options.promptTemplate().isPresent()) {
            PromptTemplate template = new PromptTemplate(options.promptTemplate().get());
            List<String> missing = template.missing(raw.schema());
            if (!missing.isEmpty()) {
                throw new InputRejectedException(options.input(), List.of("--prompt-template uses column"
                        + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing) + " that the input lacks"
                        + " (input has: " + String.join(", ", raw.schema().fieldNames()) + ")"));
            }
            raw = raw.withColumn("prompt", template.prompt(raw.schema()));
        }
        List<String> problems = new ArrayList<>(InputContract.problems(raw.schema()));
        if (!problems.isEmpty()) {
            throw new InputRejectedException(options.input(), problems);
        }
        Dataset<Row> prompts = InputContract.normalise(raw);
        long nullIds = prompts.where(col("id").isNull()).count();
        if (nullIds > 0) {
            problems.add(nullIds + " row(s) have a null id");
        }
        List<Row> duplicates = prompts.where(col("id").isNotNull()).groupBy(col("id")).count()
                .where(col("count").gt(1)).orderBy(col("id")).limit(11).collectAsList();
        if (!duplicates.isEmpty()) {
            List<String> ids = duplicates.stream().limit(10).map(r -> "\"" + r.getString(0) + "\" (x" + r.getLong(1) + ")").toList();
            problems.add("duplicate ids: " + String.join(", ", ids) + (duplicates.size() > 10 ? ", …" : ""));
        }
        problems.addAll(Samples.problems(prompts, options.n(), options.temperature()));
        if (!problems.isEmpty()) {
            throw new InputRejectedException(options.input(), problems);
        }
        return prompts;
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
