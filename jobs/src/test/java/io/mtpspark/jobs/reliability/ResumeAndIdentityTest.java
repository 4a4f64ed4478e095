package io.mtpspark.jobs.reliability;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.infra.store.ModelManifest;
import io.mtpspark.infra.testing.ModelFixture;
import io.mtpspark.jobs.generate.ModelRejectedException;
import io.mtpspark.jobs.generate.RunResult;
import io.mtpspark.jobs.generate.RunRows;
import io.mtpspark.jobs.testing.Inputs;
import io.mtpspark.jobs.testing.JobRunner;
import io.mtpspark.jobs.testing.SharedSpark;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resume and content identity (issue 17): the configuration is keyed by the model's content, resume mistakes are
 * said out loud, error rows are retried on resume unless {@code --no-retry-errors}, and model problems are found on
 * the driver before any task starts.
 */
class ResumeAndIdentityTest {
    private static final Path MODEL = SharedSpark.modelDir().resolve("stories260K.bin");

    @TempDir
    Path tmp;

    private Dataset<Row> generations(Path out, String runId) {
        return SharedSpark.session().read().parquet(out.resolve("generations").toString())
                .where(col("run_id").equalTo(runId));
    }

    /** Was: a relative spelling of the same model gave a new config hash, skipped nothing and doubled every id. */
    @Test
    void resumeWithTheSameModelSpelledDifferentlySkipsEverything() {
        Path input = Inputs.writeJsonl(tmp.resolve("in.jsonl"), Inputs.rows(8));
        Path out = tmp.resolve("out");
        String relative = Path.of("").toAbsolutePath().relativize(MODEL.toAbsolutePath()).toString();
        assertFalse(relative.startsWith("/"), relative);
        JobRunner.run("--input", input.toString(), "--output", out.toString(), "--model", MODEL.toAbsolutePath().toString(),
                "--run-id", "spell", "--max-tokens", "4", "--partitions", "2");
        RunResult resumed = JobRunner.run("--input", input.toString(), "--output", out.toString(), "--model", relative,
                "--run-id", "spell", "--max-tokens", "4", "--partitions", "2", "--resume");
        assertEquals(8, resumed.manifest().rows().skippedByResume());
        assertEquals(0, resumed.manifest().rows().generated());
        assertEquals(8, generations(out, "spell").count(), "no id twice");
        assertTrue(resumed.resumeNote().startsWith("resume spell: 8 of 8 rows already done, 0 to generate"),
                resumed.resumeNote());
    }

    @Test
    void aModelChangedAtTheSamePathIsANewConfiguration() throws Exception {
        Path dir = ModelFixture.copyModel(tmp.resolve("model"));
        ModelManifest.write(dir);
        Path input = Inputs.writeJsonl(tmp.resolve("in.jsonl"), Inputs.rows(6));
        Path out = tmp.resolve("out");
        String[] args = {"--input", input.toString(), "--output", out.toString(), "--model", dir.toString(),
                "--run-id", "swap", "--max-tokens", "4", "--partitions", "1", "--resume"};
        RunResult first = JobRunner.run(args);
        // New weights at the same path: one byte of the last layer's weights changes, the manifest is rewritten.
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve(ModelFixture.WEIGHTS).toFile(), "rw")) {
            f.seek(f.length() - 100);
            int b = f.read();
            f.seek(f.length() - 100);
            f.write(b ^ 0x40);
        }
        ModelManifest.write(dir);
        RunResult second = JobRunner.run(args);
        assertNotEquals(first.manifest().configHash(), second.manifest().configHash());
        assertNotEquals(first.manifest().modelFingerprint(), second.manifest().modelFingerprint());
        assertEquals(0, second.manifest().rows().skippedByResume(), "nothing of the old model's rows is reused");
        assertEquals(6, second.manifest().rows().generated());
        assertTrue(second.resumeNote().contains("another configuration"), second.resumeNote());
        List<Row> fps = generations(out, "swap").select("config_hash", "model_fingerprint").distinct().collectAsList();
        assertEquals(2, fps.size(), "each row carries the fingerprint of the content that generated it: " + fps);
        assertTrue(fps.stream().allMatch(r -> r.getString(1).startsWith("sha256:")), fps.toString());
    }

    @Test
    void resumingARunThatDoesNotExistWarns() {
        Path input = Inputs.writeJsonl(tmp.resolve("in.jsonl"), Inputs.rows(3));
        RunResult r = JobRunner.run("--input", input.toString(), "--output", tmp.resolve("out").toString(),
                "--model", MODEL.toString(), "--run-id", "doesnotexist", "--max-tokens", "2", "--resume");
        assertTrue(r.resumeNote().startsWith("warning: --resume: run doesnotexist has no rows yet; starting it fresh"),
                r.resumeNote());
        assertEquals(3, r.manifest().rows().generated());
    }

    /** Error rows are retried on resume by default (a transient fault must not be permanent). */
    @Test
    void errorRowsAreRetriedOnResumeUnlessNoRetryErrors() {
        List<Map<String, Object>> rows = Inputs.rows(5);
        rows.add(Map.of("id", "flaky", "prompt", "Once upon a time", "max_tokens", 0));
        Path bad = Inputs.writeJsonl(tmp.resolve("bad.jsonl"), rows);
        Path out = tmp.resolve("out");
        String[] common = {"--output", out.toString(), "--model", MODEL.toString(), "--run-id", "retry",
                "--max-tokens", "3", "--partitions", "2"};
        RunResult first = JobRunner.run(concat(common, "--input", bad.toString()));
        assertEquals(1, first.summary().errors());

        // The same error again with --no-retry-errors: kept, nothing generated.
        RunResult kept = JobRunner.run(concat(common, "--input", bad.toString(), "--resume", "--no-retry-errors"));
        assertEquals(6, kept.manifest().rows().skippedByResume());
        assertEquals(0, kept.manifest().rows().generated());
        assertEquals(1, kept.summary().errors());

        // The cause went away (here: the row's value is fixed); a plain resume generates the error row again.
        List<Map<String, Object>> fixed = Inputs.rows(5);
        fixed.add(Map.of("id", "flaky", "prompt", "Once upon a time", "max_tokens", 2));
        Path good = Inputs.writeJsonl(tmp.resolve("good.jsonl"), fixed);
        RunResult retried = JobRunner.run(concat(common, "--input", good.toString(), "--resume"));
        assertEquals(5, retried.manifest().rows().skippedByResume());
        assertEquals(1, retried.manifest().rows().generated());
        assertTrue(retried.resumeNote().contains("(1 earlier error rows retried)"), retried.resumeNote());
        assertEquals(6, retried.summary().rows(), "each id counts once");
        assertEquals(0, retried.summary().errors());
        Dataset<Row> current = RunRows.current(generations(out, "retry"));
        assertEquals(6, current.count());
        assertEquals(6, current.select("id").distinct().count());
        assertEquals(7, generations(out, "retry").count(), "the old error row stays as history");
    }

    /** Was: a missing model or --k 99 surfaced after Spark started, under pages of executor traces. */
    @Test
    void modelProblemsAreRefusedOnTheDriverWithOneLine() throws Exception {
        Path input = Inputs.writeJsonl(tmp.resolve("in.jsonl"), Inputs.rows(2));
        Path out = tmp.resolve("out");
        ModelRejectedException missing = assertThrows(ModelRejectedException.class, () -> JobRunner.run(
                "--input", input.toString(), "--output", out.toString(), "--model", "/no/such/model.bin"));
        assertEquals("--model /no/such/model.bin: model location does not exist: /no/such/model.bin",
                missing.getMessage());

        Path bare = ModelFixture.copyModel(tmp.resolve("bare"));
        ModelRejectedException noManifest = assertThrows(ModelRejectedException.class, () -> JobRunner.run(
                "--input", input.toString(), "--output", out.toString(), "--model", bare.toString()));
        assertTrue(noManifest.getMessage().contains("./mtp manifest DIR"), noManifest.getMessage());
        assertTrue(noManifest.getMessage().contains("--allow-unverified-models"), noManifest.getMessage());
        assertFalse(noManifest.getMessage().contains("ModelManifest"), "no Java API in the message");
        assertEquals(1, noManifest.getMessage().lines().count());

        ModelRejectedException k = assertThrows(ModelRejectedException.class, () -> JobRunner.run(
                "--input", input.toString(), "--output", out.toString(), "--model", MODEL.toString(),
                "--adapter", SharedSpark.modelDir().resolve("mtp-adapter.safetensors").toString(),
                "--decoder", "quadratic", "--k", "99"));
        assertEquals("--k 99 is outside 1..8 (the adapter was trained with 8 mask tokens)", k.getMessage());
        assertFalse(Files.exists(out.resolve("generations")), "no task ran");

        RunResult unverified = JobRunner.run("--input", input.toString(), "--output", out.toString(),
                "--model", bare.toString(), "--allow-unverified-models", "true", "--max-tokens", "2");
        assertEquals(2, unverified.summary().rows());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
