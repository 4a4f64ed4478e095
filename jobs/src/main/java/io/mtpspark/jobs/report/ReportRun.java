package io.mtpspark.jobs.report;

import com.google.inject.Inject;
import io.mtpspark.infra.location.StorageUri;
import io.mtpspark.infra.objects.ObjectStorage;
import io.mtpspark.infra.s3.S3Settings;
import io.mtpspark.jobs.cli.ReportOptions;
import io.mtpspark.jobs.manifest.RunManifestWriter;
import io.mtpspark.jobs.spark.S3aSettings;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * One report on the driver: read the runs' datasets ({@link UsageReader}) and manifests, price them
 * ({@link CostModel}), write the Parquet tables ({@link ReportTables}) and {@code dashboard.html}
 * ({@link Dashboard}) under {@code --out}. Every run and instance type is resolved before anything is written, so
 * an unknown instance type fails the report without leaving half of it behind.
 */
public final class ReportRun {
    private final SparkSession spark;
    private final ReportOptions options;
    private final ObjectStorage storage;
    private final S3Settings s3Settings;

    /** What a report wrote. */
    public record Result(ReportData data, Map<String, String> tables, String dashboard) {
    }

    @Inject
    public ReportRun(SparkSession spark, ReportOptions options, ObjectStorage storage, S3Settings s3Settings) {
        this.spark = spark;
        this.options = options;
        this.storage = storage;
        this.s3Settings = s3Settings;
    }

    public Result run() {
        List<String> locations = new ArrayList<>(options.runs());
        locations.add(options.out());
        if (locations.stream().anyMatch(S3aSettings::isS3a)) {
            S3aSettings.apply(s3Settings, spark.sparkContext().hadoopConfiguration());
        }
        PriceTable prices = options.prices()
                .map(p -> PriceTable.parse(storage.readString(StorageUri.parse(p)), p))
                .orElseGet(PriceTable::shipped);
        UsageReader.Usage usage = new UsageReader(spark).read(options.runs());

        Map<String, RunInfo> runs = new LinkedHashMap<>();
        usage.rootOfRun().forEach((runId, root) -> runs.put(runId, RunInfo.resolve(runId,
                manifestOrNull(RunManifestWriter.location(root, runId)), options.instanceType(),
                options.defaultInstanceType())));
        runs.values().forEach(r -> prices.priceOf(r.instanceType()));

        CostModel model = new CostModel(prices);
        List<TaskUsage> tasks = usage.tasks().stream().filter(t -> runs.containsKey(t.runId())).toList();
        ReportData data = ReportData.of(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), options.runs(), prices,
                runs.values().stream().sorted(java.util.Comparator.comparing(RunInfo::day).thenComparing(RunInfo::runId)).toList(),
                model.byRunDomain(usage.domains(), usage.taskSeconds(), runs), model.slowest(tasks, runs, options.slowest()),
                CostModel.passDistribution(tasks), RunPolicy.of(tasks));

        Map<String, String> tables = writeTables(data);
        String dashboard = strip(options.out()) + "/dashboard.html";
        storage.writeString(StorageUri.parse(dashboard), Dashboard.render(data));
        return new Result(data, tables, dashboard);
    }

    /** On S3 the tables go through the magic committer, as the generation job's outputs do. */
    private Map<String, String> writeTables(ReportData data) {
        if (!S3aSettings.isS3a(options.out())) {
            return ReportTables.write(spark, data, options.out());
        }
        Map<String, String> previous = new LinkedHashMap<>();
        S3aSettings.COMMITTER_SQL_CONF.forEach((k, v) -> {
            previous.put(k, spark.conf().getOption(k).getOrElse(() -> null));
            spark.conf().set(k, v);
        });
        try {
            return ReportTables.write(spark, data, options.out());
        } finally {
            previous.forEach((k, v) -> {
                if (v == null) {
                    spark.conf().unset(k);
                } else {
                    spark.conf().set(k, v);
                }
            });
        }
    }

    private String manifestOrNull(String location) {
        try {
            return storage.readString(StorageUri.parse(location));
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof NoSuchFileException) {
                return null;
            }
            throw e;
        }
    }

    private static String strip(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }
}
