package io.mtpspark.jobs.generate;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.session.DecoderFactory;
import io.mtpspark.engine.session.ModelBundle;
import io.mtpspark.engine.session.TextGenerator;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.jobs.testing.Inputs;
import io.mtpspark.jobs.testing.JobRunner;
import io.mtpspark.jobs.testing.SharedSpark;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Task retries, bad rows, rejected inputs and resume, on the shared local[2,2] session (2 attempts per task). */
class GenerateJobFaultTest {
    private static final String MODEL = SharedSpark.modelDir().resolve("stories260K.bin").toString();

    @TempDir
    Path tmp;

    private Dataset<Row> generations(Path out, String runId) {
        return SharedSpark.session().read().parquet(out.resolve("generations").toString())
                .where(col("run_id").equalTo(runId));
    }

    private Dataset<Row> taskStats(Path out, String runId) {
        return SharedSpark.session().read().parquet(out.resolve("task_stats").toString())
                .where(col("run_id").equalTo(runId));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4})
    void aKilledFirstAttemptIsRetriedWithoutDuplicatingOrLosingRows(int batchSize) {
        Path input = Inputs.writeJsonl(tmp.resolve("in.jsonl"), Inputs.rows(36));
        Path out = tmp.resolve("out");
        // Partition 1's first attempt throws after producing 4 rows (with a batch of 4 still in flight when
        // batching); Spark retries it (attempt 1).
        RunResult result = JobRunner.run("--input", input.toString(), "--output", out.toString(), "--model", MODEL,
                "--run-id", "retry", "--max-tokens", "8", "--partitions", "3", "--inject-failure", "1:4",
                "--batch-size", String.valueOf(batchSize));

        Dataset<Row> gens = generations(out, "retry");
        assertEquals(36, gens.count());
        assertEquals(36, gens.select("id").distinct().count());
        assertEquals(0, gens.where(col("finish_reason").equalTo("error")).count());
        Dataset<Row> stats = taskStats(out, "retry");
        assertEquals(3, stats.count(), "one statistics row per partition, none from the failed attempt");
        assertEquals(36L, stats.selectExpr("sum(rows)").first().getLong(0));
        Row p1 = stats.where(col("partition_id").equalTo(1)).first();
        assertEquals(1, p1.getInt(p1.fieldIndex("attempt")), "statistics come from the committed (second) attempt");
        assertEquals(p1.getLong(p1.fieldIndex("rows")), gens.where(col("task_attempt").equalTo(1)).count());
        assertTrue(p1.getLong(p1.fieldIndex("rows")) > 4, "the partition had more rows than the failed attempt produced");
        assertEquals(0, stats.where(col("partition_id").notEqual(1).and(col("attempt").notEqual(0))).count());
        assertEquals(3, result.taskStats().size());
    }

    /**
     * Every kind of bad row among good ones, with two partitions at batch size 1 and in one partition at batch size
     * 3 (bad rows next to good ones in flight): exactly the bad ids are error rows, every good row has the
     * completion the engine gives it alone, and nothing is lost or duplicated.
     */
    @ParameterizedTest
    @CsvSource({"1, 2", "3, 1"})
    void badRowsBecomeErrorRowsAndTheJobContinues(int batchSize, int partitions) {
        SparkSession spark = SharedSpark.session();
        StructType schema = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.BinaryType)
                .add("max_tokens", DataTypes.IntegerType).add("domain", DataTypes.StringType);
        String tooLong = "the cat sat on the mat and ".repeat(200);
        List<Row> rows = new ArrayList<>();
        rows.add(RowFactory.create("ok1", "Once upon a time".getBytes(StandardCharsets.UTF_8), null, "good"));
        rows.add(RowFactory.create("null", null, null, "bad"));
        rows.add(RowFactory.create("empty", new byte[0], null, "bad"));
        rows.add(RowFactory.create("ok3", "Lily wanted to".getBytes(StandardCharsets.UTF_8), 2, "good"));
        rows.add(RowFactory.create("utf8", new byte[]{'H', 'i', (byte) 0xC3, (byte) 0x28, ' '}, null, "bad"));
        rows.add(RowFactory.create("long", tooLong.getBytes(StandardCharsets.UTF_8), null, "bad"));
        rows.add(RowFactory.create("zero", "Tom".getBytes(StandardCharsets.UTF_8), 0, "bad"));
        rows.add(RowFactory.create("ok2", "The little dog".getBytes(StandardCharsets.UTF_8), 5, "good"));
        rows.add(RowFactory.create("ok4", "Sam liked to sing".getBytes(StandardCharsets.UTF_8), 3, "good"));
        // prompt is written as a Parquet string whose bytes may be invalid UTF-8, as a foreign writer could produce.
        Path input = tmp.resolve("bad.parquet");
        spark.createDataFrame(rows, schema).withColumn("prompt", col("prompt").cast(DataTypes.StringType))
                .coalesce(1).write().parquet(input.toString());
        Path out = tmp.resolve("out");

        JobRunner.run("--input", input.toString(), "--output", out.toString(), "--model", MODEL, "--run-id", "bad",
                "--max-tokens", "6", "--partitions", String.valueOf(partitions), "--batch-size",
                String.valueOf(batchSize));

        Map<String, Row> byId = new HashMap<>();
        List<Row> written = generations(out, "bad").collectAsList();
        for (Row r : written) {
            byId.put(r.getString(r.fieldIndex("id")), r);
        }
        assertEquals(9, written.size());
        assertEquals(9, byId.size(), "no id twice");
        assertOk(byId.get("ok1"), "Once upon a time", 6);
        assertOk(byId.get("ok2"), "The little dog", 5);
        assertOk(byId.get("ok3"), "Lily wanted to", 2);
        assertOk(byId.get("ok4"), "Sam liked to sing", 3);
        assertError(byId.get("null"), "prompt is null");
        assertError(byId.get("empty"), "prompt is empty");
        assertError(byId.get("utf8"), "not valid UTF-8");
        assertError(byId.get("long"), "does not fit the context");
        assertError(byId.get("zero"), "max_tokens must be >= 1");
        Row stats = taskStats(out, "bad").selectExpr("sum(rows)", "sum(failed_rows)").first();
        assertEquals(9L, stats.getLong(0));
        assertEquals(5L, stats.getLong(1));
    }

    /** A good row: the completion the engine's own autoregressive decoder gives the prompt alone, greedy. */
    private static void assertOk(Row r, String prompt, int tokens) {
        assertEquals("length", r.getString(r.fieldIndex("finish_reason")));
        assertEquals(tokens, r.getInt(r.fieldIndex("completion_tokens")));
        assertTrue(r.isNullAt(r.fieldIndex("error")));
        ModelBundle bundle = ModelBundle.load(Path.of(MODEL), null);
        Decoder alone = DecoderFactory.create("autoregressive", bundle.model(), new CpuBackend(1), null, 0, 0);
        String expected = new TextGenerator(bundle, alone).generate(prompt, tokens, SamplingOptions.GREEDY).text();
        assertEquals(expected, r.getString(r.fieldIndex("completion")), prompt);
    }

    private static void assertError(Row r, String message) {
        assertEquals("error", r.getString(r.fieldIndex("finish_reason")), r.toString());
        assertTrue(r.getString(r.fieldIndex("error")).contains(message), r.getString(r.fieldIndex("error")));
        assertTrue(r.isNullAt(r.fieldIndex("completion")));
    }

    @Test
    void missingColumnsAndDuplicateIdsAreRejectedBeforeAnythingRuns() throws Exception {
        Path noPrompt = tmp.resolve("noprompt.jsonl");
        Files.writeString(noPrompt, "{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"b\",\"text\":\"y\"}\n");
        Path out = tmp.resolve("out");
        InputRejectedException missing = assertThrows(InputRejectedException.class, () -> JobRunner.run(
                "--input", noPrompt.toString(), "--output", out.toString(), "--model", MODEL));
        assertTrue(missing.getMessage().contains("missing required column prompt"), missing.getMessage());

        List<Map<String, Object>> rows = Inputs.rows(5);
        rows.add(Map.of("id", "r002", "prompt", "again"));
        rows.add(Map.of("id", "r004", "prompt", "again"));
        rows.add(Map.of("id", "r004", "prompt", "and again"));
        Path dup = Inputs.writeJsonl(tmp.resolve("dup.jsonl"), rows);
        InputRejectedException duplicates = assertThrows(InputRejectedException.class, () -> JobRunner.run(
                "--input", dup.toString(), "--output", out.toString(), "--model", MODEL));
        assertTrue(duplicates.getMessage().contains("duplicate ids: \"r002\" (x2), \"r004\" (x3)"), duplicates.getMessage());
        assertTrue(!Files.exists(out.resolve("generations")), "nothing was written");
    }

    @Test
    void resumeSkipsRowsAlreadyInTheRunAndRerunsThemWhenTheConfigChanges() {
        Path out = tmp.resolve("out");
        Path first = Inputs.writeJsonl(tmp.resolve("first.jsonl"), Inputs.rows(12));
        Path all = Inputs.writeJsonl(tmp.resolve("all.jsonl"), Inputs.rows(20));
        String[] common = {"--output", out.toString(), "--model", MODEL, "--run-id", "res", "--partitions", "2",
                "--max-tokens", "6"};
        JobRunner.run(concat(common, "--input", first.toString()));

        RunResult resumed = JobRunner.run(concat(common, "--input", all.toString(), "--resume"));
        assertEquals(12, resumed.manifest().rows().skippedByResume());
        assertEquals(8, resumed.manifest().rows().generated());
        assertEquals(20, resumed.manifest().rows().runTotal());
        Dataset<Row> gens = generations(out, "res");
        assertEquals(20, gens.count());
        assertEquals(20, gens.select("id").distinct().count());
        assertEquals(20L, taskStats(out, "res").selectExpr("sum(rows)").first().getLong(0), "4 tasks over 2 invocations");

        RunResult again = JobRunner.run(concat(common, "--input", all.toString(), "--resume"));
        assertEquals(20, again.manifest().rows().skippedByResume());
        assertEquals(0, again.manifest().rows().generated());
        assertEquals(20, generations(out, "res").count());

        String[] changed = concat(common, "--input", all.toString(), "--resume");
        changed[changed.length - 4] = "7"; // --max-tokens 7: another configuration, so every row runs again
        RunResult rerun = JobRunner.run(changed);
        assertEquals(0, rerun.manifest().rows().skippedByResume());
        assertEquals(20, rerun.manifest().rows().generated());
        assertEquals(2, generations(out, "res").select("config_hash").distinct().count());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
