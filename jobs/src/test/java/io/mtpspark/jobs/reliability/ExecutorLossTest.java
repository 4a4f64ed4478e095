package io.mtpspark.jobs.reliability;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.jobs.testing.ForkedJob;
import io.mtpspark.jobs.testing.Inputs;
import io.mtpspark.jobs.testing.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 1: real executor loss. The job runs on Spark's {@code local-cluster[2,1,1024]} master (an
 * in-driver standalone master and two workers, each launching a separate executor JVM from this build's classpath;
 * no Spark distribution, works offline), with speculation on. While tasks run, executor JVMs are SIGKILLed
 * ({@code mtp.soak.kills} times, default 2); the workers launch new ones and Spark reruns the lost tasks. Then:
 * exactly one committed row per id, statistics from committed attempts only (one row per partition), manifest
 * counts right. Needs {@code SPARK_HOME} pointing at a directory with an empty {@code assembly/target/scala-2.13/jars}
 * and {@code SPARK_SCALA_VERSION}, so Spark's launcher accepts it without a distribution (the executor classpath
 * is given in full instead).
 */
@Tag("soak")
class ExecutorLossTest {
    private static final String MODEL = SharedSpark.modelDir().resolve("stories260K.bin").toString();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void executorsKilledMidTaskLoseAndDuplicateNothing() throws Exception {
        int kills = Integer.getInteger("mtp.soak.kills", 2);
        int rows = 40;
        Path input = Inputs.writeJsonl(tmp.resolve("in.jsonl"), Inputs.rows(rows));
        Path out = tmp.resolve("out");
        // Kept under target/ after the run: the workers write each executor's stdout/stderr to spark-home/work/.
        Path soak = Path.of("target", "reliability-soak").toAbsolutePath();
        if (Files.exists(soak)) {
            try (java.util.stream.Stream<Path> walk = Files.walk(soak)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        Path sparkHome = Files.createDirectories(soak.resolve("spark-home"));
        // The launcher insists on a distribution's jar folder; an empty one will do, the classpath comes in full.
        Files.createDirectories(sparkHome.resolve("assembly/target/scala-2.13/jars"));
        Path log = soak.resolve("driver.log");
        String cp = ForkedJob.classpath();
        List<String> conf = List.of("-Dspark.executor.memory=768m", "-Dspark.executor.extraClassPath=" + cp,
                "-Dspark.executor.extraJavaOptions=" + String.join(" ", ForkedJob.jvmFlags()),
                "-Dspark.task.maxFailures=" + (kills + 4), "-Dspark.speculation=true",
                "-Dspark.speculation.multiplier=1.2", "-Dspark.speculation.quantile=0.25",
                "-Dspark.speculation.minTaskRuntime=1s", "-Dspark.speculation.interval=200ms");
        Process driver = ForkedJob.start(log, Map.of("SPARK_HOME", sparkHome.toString(), "SPARK_SCALA_VERSION", "2.13"),
                conf, "--master", "local-cluster[2,1,1024]", "--input", input.toString(), "--output", out.toString(),
                "--model", MODEL, "--run-id", "loss", "--max-tokens", "96", "--partitions", "10",
                "--speedup-sample", "0");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(Integer.getInteger("mtp.soak.minutes", 15));
        try {
            killWhileRunning(driver, log, kills, deadline);
        } finally {
            driver.destroyForcibly(); // no orphan driver (and its executors) when the test fails or times out
        }
    }

    private void killWhileRunning(Process driver, Path log, int kills, long deadline) throws Exception {
        int rows = 40;
        Path out = tmp.resolve("out");
        Path sparkHome = Path.of("target", "reliability-soak", "spark-home").toAbsolutePath();
        int killed = 0;
        Set<Long> seen = new HashSet<>();
        long lastKill = 0;
        while (driver.isAlive() && System.nanoTime() < deadline) {
            // one kill at a time, 15 s apart, so replacements start and take tasks in between
            if (killed < kills && System.nanoTime() - lastKill > TimeUnit.SECONDS.toNanos(15)) {
                Optional<ProcessHandle> victim = executors(driver).stream()
                        .filter(p -> !seen.contains(p.pid()))
                        .filter(p -> p.info().startInstant().map(t -> t.plusSeconds(12)
                                .isBefore(java.time.Instant.now())).orElse(false))
                        .findFirst();
                if (victim.isPresent() && new String(Files.readAllBytes(log), java.nio.charset.StandardCharsets.ISO_8859_1)
                        .contains("Starting task")) {
                    seen.add(victim.get().pid());
                    victim.get().destroyForcibly(); // SIGKILL, as the OOM killer or a spot reclaim does
                    killed++;
                    lastKill = System.nanoTime();
                }
            }
            Thread.sleep(250);
        }
        String driverLog = new String(Files.readAllBytes(log), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(driver.waitFor(10, TimeUnit.SECONDS), "driver finished");
        assertEquals(0, driver.exitValue(), executorLog(sparkHome) + driverLog.substring(Math.max(0,
                driverLog.length() - 3000)));
        assertEquals(kills, killed, "executors killed");
        long lostTasks = driverLog.lines().filter(l -> l.contains("ExecutorLostFailure")).count();
        long speculative = driverLog.lines().filter(l -> l.contains("speculative")).count();

        Dataset<Row> gens = SharedSpark.session().read().parquet(out.resolve("generations").toString())
                .where(col("run_id").equalTo("loss"));
        assertEquals(rows, gens.count(), "no row lost, none duplicated");
        assertEquals(rows, gens.select("id").distinct().count());
        assertEquals(0, gens.where(col("finish_reason").equalTo("error")).count());
        Dataset<Row> stats = SharedSpark.session().read().parquet(out.resolve("task_stats").toString())
                .where(col("run_id").equalTo("loss"));
        assertEquals(10, stats.count(), "one statistics row per partition, from the committed attempt");
        assertEquals(10, stats.select("partition_id").distinct().count());
        assertEquals((long) rows, stats.selectExpr("sum(rows)").first().getLong(0));
        JsonNode manifest = JSON.readTree(out.resolve("manifests/loss.json").toFile());
        assertEquals(rows, manifest.get("rows").get("generated").asInt());
        assertEquals(rows, manifest.get("rows").get("run_total").asInt());
        List<String> executors = new ArrayList<>();
        gens.select("executor_id").distinct().collectAsList().forEach(r -> executors.add(r.getString(0)));
        System.out.printf("[reliability] executor loss: %d executors SIGKILLed, %d task failures from lost executors,"
                        + " %d speculation log lines, rows %d committed of %d (0 lost, 0 duplicated), executors %s%n",
                killed, lostTasks, speculative, gens.count(), rows, executors);
    }

    /** The end of the first executor's stderr, for a failure message. */
    private static String executorLog(Path sparkHome) throws java.io.IOException {
        Path work = sparkHome.resolve("work");
        if (!Files.isDirectory(work)) {
            return "(no executor logs under " + work + ")\n";
        }
        try (java.util.stream.Stream<Path> walk = Files.walk(work)) {
            Optional<Path> err = walk.filter(p -> p.getFileName().toString().equals("stderr")).findFirst();
            if (err.isEmpty()) {
                return "(no executor stderr)\n";
            }
            String text = Files.readString(err.get());
            return err.get() + ":\n" + text.substring(Math.max(0, text.length() - 3000)) + "\n---\n";
        }
    }

    /** The driver's executor JVMs, by their full /proc command line (ProcessHandle's is cut at 4096 chars). */
    private static List<ProcessHandle> executors(Process driver) {
        return driver.descendants().filter(p -> {
            try {
                return new String(Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline")),
                        java.nio.charset.StandardCharsets.ISO_8859_1).contains("CoarseGrainedExecutorBackend");
            } catch (java.io.IOException e) {
                return false; // exited meanwhile
            }
        }).toList();
    }
}
