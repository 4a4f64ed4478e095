package io.mtpspark.jobs.report;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.infra.config.ConfigBinder;
import io.mtpspark.infra.config.ConfigValues;
import io.mtpspark.jobs.ReportJob;
import io.mtpspark.jobs.cli.ReportOptions;
import io.mtpspark.jobs.schema.GenerationRecord;
import io.mtpspark.jobs.schema.OutputSchemas;
import io.mtpspark.jobs.stats.TaskStats;
import io.mtpspark.jobs.testing.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report over hand-built {@code generations}, {@code task_stats} and manifests in two output roots, with a
 * price file whose prices make every expected dollar figure a short exact number:
 * <ul>
 *   <li>run {@code 2026-11-01} (a run id that looks like a date), priced from its manifest at {@code test-gpu},
 *       $1/h: tasks of 5400 s + 1800 s = 2 h. Domains a and b did 3000 ms of row time each, so 1 h each. Domain a's
 *       sample ran at 100 tok/1000 ms vs 100 tok/2000 ms autoregressive: 2× → $1 actual, $2 AR. Domain b has no
 *       sample: 1×, flagged, $1 and $1; one of its two rows is an error.</li>
 *   <li>run {@code r2}, no instance type in its manifest, so the default {@code test-cpu}: $0.5/h for 2 slots =
 *       $0.25 per task-hour; one 4 h task → $1; its sample ran 4× → AR $4.</li>
 *   <li>run {@code r3}: no manifest (day unknown), no task_stats (billed by row time: 2 h → $0.5), null domain,
 *       no sample.</li>
 * </ul>
 */
class ReportJobTest {
    private static final double EPS = 1e-9;

    @TempDir
    Path tmp;

    @Test
    void handBuiltRunsGiveExactCostsCounterfactualsAndSavingsPerRunDomainAndDay() throws Exception {
        Path root1 = tmp.resolve("runs1");
        Path root2 = tmp.resolve("runs2");
        writeGenerations(root1, List.of(
                gen("2026-11-01", "a1", "a", 100, 50, 1000, null, null),
                gen("2026-11-01", "a2", "a", 100, 50, 1000, null, null),
                gen("2026-11-01", "a3", "a", 100, 50, 1000, 100, 2000.0),
                gen("2026-11-01", "b1", "b", 100, 25, 3000, null, null),
                error("2026-11-01", "b2", "b")));
        writeTaskStats(root1, List.of(
                task("2026-11-01", 0, 5_400_000, 3, new long[] {10, 20, 5, 1}, 3, 150L, 100.0, 50.0),
                task("2026-11-01", 1, 1_800_000, 3, new long[] {4, 0, 0, 0}, 2, 25L, null, null)));
        manifest(root1, "2026-11-01", "2026-11-01T23:30:00Z", "\"instance-type\": \"test-gpu\"");

        writeGenerations(root2, List.of(
                gen("r2", "x1", "a", 10, 10, 500, 10, 2000.0),
                gen("r3", "y1", null, 40, 40, 7_200_000, null, null)));
        writeTaskStats(root2, List.of(task("r2", 0, 14_400_000, 0, new long[] {0}, 1, 10L, 40.0, 10.0,
                "{\"steps\":{\"autoregressive\":30,\"quadratic k=8\":10},\"reason\":\"why r2\"}")));
        manifest(root2, "r2", "2026-11-02T08:00:00Z", "\"decoder\": \"quadratic\"");

        Path prices = tmp.resolve("prices.json");
        Files.writeString(prices, """
                {"version": 7, "as_of": "2026-01-01", "source": "test",
                 "instances": {"test-gpu": {"usd_per_hour": 1.0, "slots": 1, "kind": "gpu"},
                               "test-cpu": {"usd_per_hour": 0.5, "slots": 2, "kind": "cpu"}}}""");
        Path out = tmp.resolve("report");
        ReportRun.Result result = report("--runs", root1 + "," + root2, "--out", out.toString(),
                "--prices", prices.toString(), "--default-instance-type", "test-cpu");

        SparkSession spark = SharedSpark.session();
        Dataset<Row> byRunDomain = spark.read().parquet(out.resolve("by_run_domain").toString());
        assertEquals(4, byRunDomain.count());
        Row a = one(byRunDomain.where(col("run_id").equalTo("2026-11-01").and(col("domain").equalTo("a"))));
        assertEquals("2026-11-01", a.getAs("day"));
        assertEquals("test-gpu", a.getAs("instance_type"));
        assertEquals("gpu", a.getAs("device_kind"));
        assertEquals(3L, (long) a.getAs("rows"));
        assertEquals(300L, (long) a.getAs("generated_tokens"));
        assertEquals(2.0, dbl(a, "tokens_per_pass"), EPS);
        assertEquals(3600.0, dbl(a, "compute_seconds"), EPS);
        assertEquals(1.0, dbl(a, "compute_hours"), EPS);
        assertEquals(300 / 3600.0, dbl(a, "tokens_per_s"), EPS);
        assertEquals(2.0, dbl(a, "measured_speedup"), EPS);
        assertFalse((boolean) a.getAs("speedup_assumed"));
        assertEquals(1.0, dbl(a, "cost_usd"), EPS);
        assertEquals(1e6 / 300, dbl(a, "usd_per_1m_tokens"), 1e-6);
        assertEquals(2.0, dbl(a, "ar_compute_hours"), EPS);
        assertEquals(2.0, dbl(a, "ar_cost_usd"), EPS);
        assertEquals(1.0, dbl(a, "savings_usd"), EPS);
        assertEquals(0.0, dbl(a, "error_rate"), EPS);

        Row b = one(byRunDomain.where(col("domain").equalTo("b")));
        assertEquals(0.5, dbl(b, "error_rate"), EPS);
        assertEquals(1.0, dbl(b, "cost_usd"), EPS);
        assertEquals(2.0, dbl(b, "ar_cost_usd"), EPS, "no sample: counts at the run's measured speedup (2x)");
        assertEquals(1.0, dbl(b, "savings_usd"), EPS);
        assertTrue((boolean) b.getAs("speedup_assumed"));

        Dataset<Row> byRun = spark.read().parquet(out.resolve("by_run").toString());
        Row run1 = one(byRun.where(col("run_id").equalTo("2026-11-01")));
        assertEquals(5L, (long) run1.getAs("rows"));
        assertEquals(0.2, dbl(run1, "error_rate"), EPS);
        assertEquals(7200.0, dbl(run1, "compute_seconds"), EPS);
        assertEquals(2.0, dbl(run1, "cost_usd"), EPS);
        assertEquals(4.0, dbl(run1, "ar_cost_usd"), EPS);
        assertEquals(2.0, dbl(run1, "savings_usd"), EPS);
        assertEquals(2.0, dbl(run1, "measured_speedup"), EPS);
        assertTrue((boolean) run1.getAs("speedup_assumed"));
        assertNull(run1.getAs("domain"));
        Row r2 = one(byRun.where(col("run_id").equalTo("r2")));
        assertEquals("2026-11-02", r2.getAs("day"));
        assertEquals("test-cpu", r2.getAs("instance_type"));
        assertEquals(0.25, dbl(r2, "usd_per_task_hour"), EPS);
        assertEquals(1.0, dbl(r2, "cost_usd"), EPS);
        assertEquals(4.0, dbl(r2, "measured_speedup"), EPS);
        assertEquals(4.0, dbl(r2, "ar_cost_usd"), EPS);
        assertEquals(3.0, dbl(r2, "savings_usd"), EPS);
        Row r3 = one(byRun.where(col("run_id").equalTo("r3")));
        assertEquals(RunInfo.UNKNOWN_DAY, r3.getAs("day"));
        assertEquals(7200.0, dbl(r3, "compute_seconds"), EPS, "no task_stats: billed by the rows' own time");
        assertEquals(0.5, dbl(r3, "cost_usd"), EPS);
        assertEquals(0.0, dbl(r3, "savings_usd"), EPS);

        Dataset<Row> byDay = spark.read().parquet(out.resolve("by_day").toString());
        assertEquals(3, byDay.count());
        assertEquals(4.0, dbl(one(byDay.where(col("day").equalTo("2026-11-01"))), "ar_cost_usd"), EPS);
        assertEquals(4.0, dbl(one(byDay.where(col("day").equalTo("2026-11-02"))), "ar_cost_usd"), EPS);

        Dataset<Row> byDomain = spark.read().parquet(out.resolve("by_domain").toString());
        Row da = one(byDomain.where(col("domain").equalTo("a")));
        assertEquals(2.0, dbl(da, "cost_usd"), EPS);
        assertEquals(6.0, dbl(da, "ar_cost_usd"), EPS);
        assertEquals((7200.0 + 57600) / 18000, dbl(da, "measured_speedup"), EPS, "time-weighted over both runs");
        assertEquals("test-cpu+test-gpu", da.getAs("instance_type"));
        assertEquals(1, byDomain.where(col("domain").equalTo("(none)")).count());

        CostLine total = result.data().total();
        assertEquals(3.5, total.costUsd(), EPS);
        assertEquals(8.5, total.arCostUsd(), EPS);
        assertEquals(5.0, total.savingsUsd(), EPS);
        assertEquals(7L, total.rows());

        Dataset<Row> slowest = spark.read().parquet(out.resolve("slowest_tasks").toString()).orderBy("rank");
        List<Row> slow = slowest.collectAsList();
        assertEquals(3, slow.size());
        assertEquals("r2", slow.get(0).getAs("run_id"));
        assertEquals(14_400.0, dbl(slow.get(0), "wall_seconds"), EPS);
        assertEquals(1.0, dbl(slow.get(0), "cost_usd"), EPS);
        assertEquals(5_400.0, dbl(slow.get(1), "wall_seconds"), EPS);
        assertEquals(1.5, dbl(slow.get(1), "cost_usd"), EPS);
        assertEquals(2.0, dbl(slow.get(1), "measured_speedup"), EPS);

        List<Row> passes = spark.read().parquet(out.resolve("tokens_per_pass").toString()).orderBy("tokens").collectAsList();
        assertEquals(List.of("1:14", "2:20", "3:5", "4:1"), passes.stream()
                .map(r -> r.getInt(r.fieldIndex("tokens")) + ":" + r.getLong(r.fieldIndex("passes"))).toList());

        List<Row> choices = spark.read().parquet(out.resolve("policy_choices").toString())
                .orderBy("configuration").collectAsList();
        assertEquals(List.of("r2 autoregressive 30 0.75 why r2", "r2 quadratic k=8 10 0.25 why r2"), choices.stream()
                .map(r -> r.getAs("run_id") + " " + r.getAs("configuration") + " " + r.getAs("steps") + " "
                        + r.getAs("share") + " " + r.getAs("reason")).toList());
        assertEquals(800.0, dbl(choices.get(0), "measured_forward_tokens_per_s"), EPS);

        String html = Files.readString(out.resolve("dashboard.html"));
        assertTrue(html.contains("chose</h2>") && html.contains("autoregressive 75% · quadratic k=8 25%")
                && html.contains("why r2"), "the policy's choices in the page");
        assertTrue(Files.getPosixFilePermissions(out.resolve("dashboard.html"))
                .contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ), "world-readable like the tables");
        assertTrue(html.contains("id='chart-cost'") && html.contains("id='chart-speedup'"), "charts in the page");
        assertTrue(html.contains("2026-11-01") && html.contains("r2"), "runs in the page");
    }

    @Test
    void anUnknownInstanceTypeFailsBeforeAnythingIsWritten() {
        Path root = tmp.resolve("runs");
        writeGenerations(root, List.of(gen("r9", "z1", "a", 10, 10, 100, null, null)));
        Path out = tmp.resolve("report");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> report("--runs", root.toString(), "--out", out.toString(), "--instance-type", "x9.huge"));
        assertTrue(e.getMessage().contains("x9.huge") && e.getMessage().contains("g5.xlarge"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    private static ReportRun.Result report(String... args) {
        ConfigValues config = ReportJob.parse(args);
        return ReportJob.run(SharedSpark.session(), config, ConfigBinder.bind(ReportOptions.class, config));
    }

    private static double dbl(Row row, String field) {
        return row.getDouble(row.fieldIndex(field));
    }

    private static Row one(Dataset<Row> rows) {
        List<Row> all = rows.collectAsList();
        assertEquals(1, all.size(), "exactly one row");
        return all.get(0);
    }

    private static GenerationRecord gen(String run, String id, String domain, int tokens, int passes, double wallMs,
                                        Integer arTokens, Double arWallMs) {
        return new GenerationRecord(run, id, domain, "h", "c", 5, "text", tokens, "length", null, "quadratic", 3,
                passes, passes == 0 ? 0 : tokens / (double) passes, wallMs, "m", "ad", "cpu", "1", 0,
                arTokens != null, arTokens, arWallMs);
    }

    private static GenerationRecord error(String run, String id, String domain) {
        return new GenerationRecord(run, id, domain, "h", "c", null, null, 0, "error", "boom", "quadratic", 3, 0, 0,
                0, "m", "ad", "cpu", "1", 0, false, null, null);
    }

    private static TaskStats task(String run, int partition, double wallMs, int k, long[] histogram, long rows,
                                  long passes, Double mtpRate, Double arRate) {
        return task(run, partition, wallMs, k, histogram, rows, passes, mtpRate, arRate, null);
    }

    /** With {@code decoderSteps}: a task of --decoder auto (predicted 900, measured 800 forward tokens/s). */
    private static TaskStats task(String run, int partition, double wallMs, int k, long[] histogram, long rows,
                                  long passes, Double mtpRate, Double arRate, String decoderSteps) {
        return new TaskStats(run, 1, partition, 0, "exec-" + partition, "host", "cpu", "cpu", "quadratic", k, rows, 0,
                5 * rows, 100 * rows, passes, histogram, wallMs, mtpRate == null ? 0 : 1, mtpRate, arRate, "m", "ad",
                decoderSteps, decoderSteps == null ? null : 900.0, decoderSteps == null ? null : 800.0, null);
    }

    private static void writeGenerations(Path root, List<GenerationRecord> records) {
        List<Row> rows = new ArrayList<>(records.stream().map(OutputSchemas::toRow).toList());
        SharedSpark.session().createDataFrame(rows, OutputSchemas.GENERATIONS).write().mode(SaveMode.Append)
                .partitionBy("run_id").parquet(root.resolve("generations").toString());
    }

    private static void writeTaskStats(Path root, List<TaskStats> stats) {
        List<Row> rows = new ArrayList<>(stats.stream().map(OutputSchemas::toRow).toList());
        SharedSpark.session().createDataFrame(rows, OutputSchemas.TASK_STATS).write().mode(SaveMode.Append)
                .partitionBy("run_id").parquet(root.resolve("task_stats").toString());
    }

    private static void manifest(Path root, String run, String startedAt, String option) throws Exception {
        Files.createDirectories(root.resolve("manifests"));
        Files.writeString(root.resolve("manifests/" + run + ".json"), "{\"run_id\": \"" + run + "\", \"started_at\": \""
                + startedAt + "\", \"options\": {" + option + "}}\n");
    }
}
