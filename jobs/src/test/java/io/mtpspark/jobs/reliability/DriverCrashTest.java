package io.mtpspark.jobs.reliability;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.jobs.generate.RunResult;
import io.mtpspark.jobs.generate.StaleStaging;
import io.mtpspark.jobs.testing.ForkedJob;
import io.mtpspark.jobs.testing.Inputs;
import io.mtpspark.jobs.testing.JobRunner;
import io.mtpspark.jobs.testing.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 4: the driver JVM is SIGKILLed in the middle of a run (after some tasks committed their output to
 * the job's staging area), then the run is resumed: every id is done exactly once, in one config hash, and the
 * killed invocation left nothing that reads as output.
 */
class DriverCrashTest {
    private static final String MODEL = SharedSpark.modelDir().resolve("stories260K.bin").toString();

    @TempDir
    Path tmp;

    @Test
    void aDriverKilledMidRunIsResumedWithEveryIdExactlyOnce() throws Exception {
        Path first = Inputs.writeJsonl(tmp.resolve("first.jsonl"), Inputs.rows(10));
        Path all = Inputs.writeJsonl(tmp.resolve("all.jsonl"), Inputs.rows(48));
        Path out = tmp.resolve("out");
        String[] common = {"--output", out.toString(), "--model", MODEL, "--run-id", "crash", "--max-tokens", "32",
                "--partitions", "8", "--speedup-sample", "0"};
        JobRunner.run(concat(common, "--input", first.toString()));

        Path log = tmp.resolve("driver.log");
        Process driver = ForkedJob.start(log, Map.of(), concat(common, "--input", all.toString(), "--resume",
                "--master", "local[2]"));
        Path staging = out.resolve("generations/_temporary");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        boolean committedSome = false;
        while (driver.isAlive() && System.nanoTime() < deadline && !committedSome) {
            committedSome = committedTasks(staging) >= 1;
            Thread.sleep(100);
        }
        assertTrue(driver.isAlive(), "the driver was still running when killed:\n" + Files.readString(log));
        assertTrue(committedSome, "a task had committed before the kill:\n" + Files.readString(log));
        driver.destroyForcibly(); // SIGKILL: no shutdown hooks, no job abort, staging left behind
        assertTrue(driver.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, driver.exitValue(), "killed by SIGKILL");
        assertEquals(10, generations(out).count(), "the killed invocation published nothing");
        // Found by this test: the classic committer's next job commit published the dead run's staged tasks too
        // (62 rows for 48 ids). A run that is not a resume now refuses; a resume removes them.
        StaleStaging.OutputInUseException refused = assertThrows(StaleStaging.OutputInUseException.class,
                () -> JobRunner.run("--output", out.toString(), "--model", MODEL, "--run-id", "other",
                        "--input", all.toString()));
        assertTrue(refused.getMessage().contains("--resume"), refused.getMessage());

        RunResult resumed = JobRunner.run(concat(common, "--input", all.toString(), "--resume"));
        assertEquals(10, resumed.manifest().rows().skippedByResume());
        assertEquals(38, resumed.manifest().rows().generated());
        Dataset<Row> gens = generations(out);
        assertEquals(48, gens.count(), "every id exactly once");
        assertEquals(48, gens.select("id").distinct().count());
        assertEquals(1, gens.select("config_hash").distinct().count());
        assertEquals(0, gens.where(col("finish_reason").equalTo("error")).count());
        assertEquals(48, resumed.manifest().rows().runTotal());
    }

    /** Task outputs committed into the job's staging area (FileOutputCommitter v1: {@code _temporary/0/task_*}). */
    private static long committedTasks(Path staging) throws Exception {
        Path attempt = staging.resolve("0");
        if (!Files.isDirectory(attempt)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(attempt)) {
            return s.filter(p -> p.getFileName().toString().startsWith("task_")).count();
        }
    }

    private Dataset<Row> generations(Path out) {
        return SharedSpark.session().read().parquet(out.resolve("generations").toString())
                .where(col("run_id").equalTo("crash"));
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
