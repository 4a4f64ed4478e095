package io.mtpspark.jobs.reliability;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.jobs.testing.ForkedJob;
import io.mtpspark.jobs.testing.Inputs;
import io.mtpspark.jobs.testing.LocalCluster;
import io.mtpspark.jobs.testing.SharedSpark;
import io.mtpspark.jobs.testing.TaskAttemptLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 2: speculative execution launching real duplicates. Two executor JVMs on two loopback hosts
 * ({@link LocalCluster}; Spark never speculates onto a host where the task already runs), speculation on, and
 * partition 0's first attempt stalls after producing a row ({@code --inject-failure 0:1:STALL_MS}). Spark launches a
 * speculative copy on the other executor, the copy commits, the straggler is killed. A SparkListener in the driver
 * ({@link TaskAttemptLog}) shows the speculative launch; the output has every id once and one statistics row per
 * partition, partition 0's from the speculative attempt. Part of {@code mvn verify} (three JVMs, ~68 s on the quiet
 * 2-core machine; 2–3 minutes on a loaded one), and of {@code scripts/reliability-soak.sh}.
 */
class SpeculationTest {
    private static final String MODEL = SharedSpark.modelDir().resolve("stories260K.bin").toString();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ROWS = 16;
    private static final int PARTITIONS = 4;

    @TempDir
    Path tmp;

    @Test
    void aSpeculativeCopyOfAStragglerDuplicatesNothing() throws Exception {
        LocalCluster cluster = LocalCluster.prepare(Path.of("target", "speculation").toAbsolutePath(), 2);
        Path input = Inputs.writeJsonl(tmp.resolve("in.jsonl"), Inputs.rows(ROWS));
        Path out = tmp.resolve("out");
        Path taskLog = tmp.resolve("tasks.log");
        Path log = tmp.resolve("driver.log");
        Process driver = ForkedJob.start(log, cluster.env(), cluster.driverOptions(
                        "-Dspark.extraListeners=" + TaskAttemptLog.class.getName(), "-Dspark.mtp.taskLog=" + taskLog,
                        "-Dspark.speculation=true", "-Dspark.speculation.multiplier=1.5",
                        "-Dspark.speculation.quantile=0.5", "-Dspark.speculation.minTaskRuntime=1s",
                        "-Dspark.speculation.interval=200ms", "-Dspark.speculation.efficiency.enabled=false"),
                "--master", cluster.master(), "--input", input.toString(), "--output", out.toString(),
                "--model", MODEL, "--run-id", "spec", "--max-tokens", "16", "--partitions", String.valueOf(PARTITIONS),
                "--speedup-sample", "0", "--inject-failure", "0:1:180000");
        try {
            boolean done = driver.waitFor(4, TimeUnit.MINUTES);
            String driverLog = Files.readString(log, StandardCharsets.ISO_8859_1);
            assertTrue(done, "driver finished within 4 minutes\n" + tail(driverLog) + cluster.executorLogs());
            assertEquals(0, driver.exitValue(), tail(driverLog) + cluster.executorLogs());
        } finally {
            driver.destroyForcibly();
        }

        List<String[]> tasks = TaskAttemptLog.read(taskLog);
        List<String> generation = TaskAttemptLog.generationStages(tasks, PARTITIONS);
        assertEquals(1, generation.size(), "one generation stage: " + String.join("\n", tasks.stream()
                .map(l -> String.join(" ", l)).toList()));
        String stage = generation.get(0);
        List<String[]> speculative = tasks.stream().filter(l -> l[0].equals("start") && l[1].equals(stage)
                && l[4].equals("true")).toList();
        assertTrue(speculative.size() >= 1, "Spark launched a speculative copy");
        String[] copy = speculative.get(0);
        assertEquals("0", copy[2], "the straggling partition was copied");
        String[] original = tasks.stream().filter(l -> l[0].equals("start") && l[1].equals(stage) && l[2].equals("0")
                && l[3].equals("0")).findFirst().orElseThrow();
        assertTrue(!copy[6].equals(original[6]), "the copy ran on another host than the straggler");
        assertTrue(tasks.stream().anyMatch(l -> l[0].equals("end") && l[1].equals(stage) && l[2].equals("0")
                && l[3].equals(copy[3]) && l[8].equals("Success")), "the copy succeeded");
        assertTrue(tasks.stream().anyMatch(l -> l[0].equals("end") && l[1].equals(stage) && l[2].equals("0")
                && l[3].equals("0") && l[8].equals("TaskKilled")), "the straggler was killed");

        Dataset<Row> gens = SharedSpark.session().read().parquet(out.resolve("generations").toString())
                .where(col("run_id").equalTo("spec"));
        assertEquals(ROWS, gens.count(), "no duplicate rows, none lost");
        assertEquals(ROWS, gens.select("id").distinct().count());
        Dataset<Row> stats = SharedSpark.session().read().parquet(out.resolve("task_stats").toString())
                .where(col("run_id").equalTo("spec"));
        assertEquals(PARTITIONS, stats.count(), "one statistics row per partition, none from the straggler");
        assertEquals((long) ROWS, stats.selectExpr("sum(rows)").first().getLong(0));
        Row p0 = stats.where(col("partition_id").equalTo(0)).first();
        assertEquals(Integer.parseInt(copy[3]), p0.getInt(p0.fieldIndex("attempt")), "statistics of the copy");
        JsonNode manifest = JSON.readTree(out.resolve("manifests/spec.json").toFile());
        assertEquals(ROWS, manifest.get("rows").get("generated").asInt());
        assertEquals(ROWS, manifest.get("rows").get("run_total").asInt());
        System.out.printf("[reliability] speculation: %d speculative attempt(s) launched (partition 0 attempt %s on"
                + " %s, straggler on %s), %d rows, 0 duplicated%n", speculative.size(), copy[3], copy[6], original[6],
                gens.count());
    }

    private static String tail(String text) {
        return text.substring(Math.max(0, text.length() - 4000));
    }
}
