package io.mtpspark.jobs.generate;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.engine.session.ModelBundle;
import io.mtpspark.infra.config.ConfigBinder;
import io.mtpspark.infra.config.ConfigValues;
import io.mtpspark.jobs.ReportJob;
import io.mtpspark.jobs.cli.ReportOptions;
import io.mtpspark.jobs.manifest.RunManifestWriter;
import io.mtpspark.jobs.report.CostLine;
import io.mtpspark.jobs.report.ReportRun;
import io.mtpspark.jobs.testing.Inputs;
import io.mtpspark.jobs.testing.JobRunner;
import io.mtpspark.jobs.testing.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End to end on the shipped stories260K model: JSONL in, both Parquet datasets and the manifest out. */
class GenerateJobLocalTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void generatesEveryRowWithTheGoldenGreedyCompletionAndConsistentTaskStats() throws Exception {
        JsonNode golden = JSON.readTree(SharedSpark.modelDir().resolve("golden/greedy_0.json").toFile());
        int[] goldenIds = new int[golden.get("generated_ids").size()];
        for (int i = 0; i < goldenIds.length; i++) {
            goldenIds[i] = golden.get("generated_ids").get(i).asInt();
        }
        List<Map<String, Object>> rows = Inputs.rows(29);
        rows.add(Map.of("id", "golden", "prompt", golden.get("prompt").asText(), "domain", "golden",
                "max_tokens", goldenIds.length, "temperature", 0.0));
        Path input = Inputs.writeJsonl(tmp.resolve("in/prompts.jsonl"), rows);
        Path out = tmp.resolve("out");

        RunResult result = JobRunner.run("--input", input.toString(), "--output", out.toString(),
                "--model", SharedSpark.modelDir().resolve("stories260K.bin").toString(), "--run-id", "e2e",
                "--max-tokens", "24", "--partitions", "3", "--speedup-sample", "0.25", "--instance-type", "g5.xlarge");

        SparkSession spark = SharedSpark.session();
        Dataset<Row> gens = spark.read().parquet(out.resolve("generations").toString()).where(col("run_id").equalTo("e2e"));
        assertEquals(30, gens.count());
        assertEquals(30, gens.select("id").distinct().count());
        assertEquals(0, gens.where(col("finish_reason").equalTo("error")).count());

        Row g = gens.where(col("id").equalTo("golden")).first();
        ModelBundle bundle = ModelBundle.load(SharedSpark.modelDir().resolve("stories260K.bin"), null);
        int lastPromptId = golden.get("prompt_ids").get(golden.get("prompt_ids").size() - 1).asInt();
        String expected = bundle.tokenizer().decode(lastPromptId, goldenIds);
        assertEquals(expected, g.getString(g.fieldIndex("completion")));
        assertTrue(expected.startsWith(", there was a little girl named Lily"), expected);
        assertEquals(goldenIds.length, g.getInt(g.fieldIndex("completion_tokens")));
        assertEquals("length", g.getString(g.fieldIndex("finish_reason")));
        assertEquals(5, g.getInt(g.fieldIndex("prompt_tokens")));
        assertEquals("autoregressive", g.getString(g.fieldIndex("decoder")));
        assertEquals(goldenIds.length, g.getInt(g.fieldIndex("forward_passes")));
        assertNotNull(g.getString(g.fieldIndex("model_fingerprint")));
        assertNull(g.get(g.fieldIndex("adapter_fingerprint")));

        Row other = gens.where(col("id").equalTo("r001")).first();
        assertEquals(24, other.getInt(other.fieldIndex("completion_tokens")));
        assertEquals("play", other.getString(other.fieldIndex("domain")));

        Dataset<Row> stats = spark.read().parquet(out.resolve("task_stats").toString()).where(col("run_id").equalTo("e2e"));
        assertEquals(3, stats.count(), "one row per task");
        Row sums = stats.selectExpr("sum(rows)", "sum(failed_rows)", "sum(generated_tokens)", "sum(prompt_tokens)",
                "sum(sample_rows)", "min(measured_speedup)").first();
        assertEquals(30L, sums.getLong(0), "sum of task rows = input rows");
        assertEquals(0L, sums.getLong(1));
        long genTokens = gens.selectExpr("sum(completion_tokens)").first().getLong(0);
        assertEquals(genTokens, sums.getLong(2));
        assertEquals(gens.selectExpr("sum(prompt_tokens)").first().getLong(0), sums.getLong(3));
        assertEquals(0L, gens.where(col("speedup_sample")).count());
        assertEquals(0L, sums.getLong(4), "an autoregressive run samples nothing: its speedup is 1 by definition");
        assertEquals(1.0, sums.getDouble(5));
        Row task = stats.first();
        assertEquals("cpu", task.getString(task.fieldIndex("device")));
        assertTrue(task.getString(task.fieldIndex("backend")).startsWith("cpu("), task.getString(task.fieldIndex("backend")));

        Path manifest = Path.of(RunManifestWriter.location(out.toString(), "e2e"));
        JsonNode m = JSON.readTree(Files.readString(manifest));
        assertEquals("e2e", m.get("run_id").asText());
        assertEquals(30, m.get("rows").get("input").asInt());
        assertEquals(30, m.get("rows").get("generated").asInt());
        assertEquals(30, m.get("rows").get("run_total").asInt());
        assertEquals(g.getString(g.fieldIndex("model_fingerprint")), m.get("model_fingerprint").asText());
        assertEquals(24, m.get("options").get("max-tokens").asInt());
        assertEquals(result.summary().rows(), 30);
        assertEquals(4, result.summary().domains().size());
        assertEquals("g5.xlarge", m.get("options").get("instance-type").asText());
        assertEquals(1.0, m.get("throughput").get("measured_speedup").asDouble(), "autoregressive: 1 by definition");
        assertEquals(result.summary().tokensPerSecondPerTaskSlot(),
                m.get("throughput").get("per_task_slot_tokens_per_s").asDouble(), 1e-9);

        // The cost report reads this run as the job wrote it: priced by the manifest's instance type, billed for
        // the committed tasks' wall time.
        ConfigValues reportConfig = ReportJob.parse("--runs", out.toString(), "--out", tmp.resolve("report").toString());
        ReportRun.Result report = ReportJob.run(spark, reportConfig, ConfigBinder.bind(ReportOptions.class, reportConfig));
        assertEquals(1, report.data().byRun().size());
        CostLine run = report.data().byRun().get(0);
        assertEquals("e2e", run.runId());
        assertEquals("g5.xlarge", run.instanceType());
        assertEquals("manifest", report.data().runs().get(0).instanceTypeSource());
        assertEquals(30, run.rows());
        assertEquals(genTokens, run.generatedTokens());
        double taskSeconds = stats.selectExpr("sum(wall_ms)").first().getDouble(0) / 1000;
        assertEquals(taskSeconds, run.computeSeconds(), 1e-6);
        assertEquals(taskSeconds / 3600 * 1.006, run.costUsd(), 1e-9);
        assertEquals(0.0, run.savingsUsd(), 1e-12, "an autoregressive run saves nothing");
        assertTrue(!run.speedupAssumed(), "and its speedup 1 is not an assumption");
        assertEquals(result.summary().tokensPerSecondPerTaskSlot(), run.tokensPerSecond(), 1e-6 * run.tokensPerSecond(),
                "the dashboard's throughput is the summary's per-task-slot figure");
        assertEquals(4, report.data().byDomain().size());
        assertTrue(Files.exists(tmp.resolve("report/dashboard.html")));
    }
    /**
     * Batching changes nothing a row holds: quadratic k=8 with the shipped adapter at batch size 4 writes, per id,
     * the text, token counts, passes and finish reasons batch size 1 writes, under the same config hash (so a resume
     * across batch sizes skips the done rows), and the manifest records the batch size.
     */
    @Test
    void batchSizeFourWritesExactlyWhatBatchSizeOneWrites() throws Exception {
        List<Map<String, Object>> rows = Inputs.rows(14);
        rows.get(3).put("max_tokens", 3);
        rows.get(4).put("max_tokens", 40);
        Path input = Inputs.writeJsonl(tmp.resolve("in/prompts.jsonl"), rows);
        Path out = tmp.resolve("out");
        Map<Integer, List<Row>> byBatchSize = new HashMap<>();
        for (int batchSize : new int[]{1, 4}) {
            String runId = "b" + batchSize;
            JobRunner.run("--input", input.toString(), "--output", out.toString(),
                    "--model", SharedSpark.modelDir().resolve("stories260K.bin").toString(),
                    "--adapter", SharedSpark.modelDir().resolve("mtp-adapter.safetensors").toString(),
                    "--decoder", "quadratic", "--k", "8", "--batch-size", String.valueOf(batchSize),
                    "--run-id", runId, "--max-tokens", "24", "--partitions", "2");
            List<Row> written = SharedSpark.session().read().parquet(out.resolve("generations").toString())
                    .where(col("run_id").equalTo(runId)).orderBy("id")
                    .select("id", "completion", "completion_tokens", "prompt_tokens", "forward_passes",
                            "finish_reason", "error", "config_hash", "decoder")
                    .collectAsList();
            assertEquals(14, written.size());
            byBatchSize.put(batchSize, written);
            JsonNode m = JSON.readTree(Files.readString(Path.of(RunManifestWriter.location(out.toString(), runId))));
            assertEquals(batchSize, m.get("options").get("batch-size").asInt());
            assertEquals(0, m.get("rows").get("failed").asInt());
        }
        assertEquals(byBatchSize.get(1), byBatchSize.get(4), "rows by id, config hash included");
        Dataset<Row> b4 = SharedSpark.session().read().parquet(out.resolve("generations").toString())
                .where(col("run_id").equalTo("b4"));
        assertEquals(40, b4.where(col("id").equalTo("r004")).first().getInt(b4.schema().fieldIndex("completion_tokens")));
        assertEquals("quadratic", b4.first().getString(b4.schema().fieldIndex("decoder")));
        assertTrue(b4.selectExpr("sum(completion_tokens) / sum(forward_passes)").first().getDouble(0) > 2,
                "the adapter's drafts are accepted in the batch too");
    }
}
