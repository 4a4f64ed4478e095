package io.mtpspark.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.infra.store.LocalModelStore;
import io.mtpspark.infra.store.ModelStoreOptions;
import io.mtpspark.infra.store.ModelVerificationException;
import io.mtpspark.jobs.cli.GenerateOptions;
import io.mtpspark.jobs.schema.GenerationRecord;
import io.mtpspark.jobs.schema.PromptRow;
import io.mtpspark.jobs.stats.TaskIdentity;
import io.mtpspark.jobs.stats.TaskStats;
import io.mtpspark.jobs.testing.SharedSpark;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-partition service without Spark: error rows, sampling, statistics, the injected failure. */
class PartitionGeneratorTest {
    private static LoadedEngine engine;

    @BeforeAll
    static void load() {
        engine = LoadedEngine.load(new LocalModelStore(ModelStoreOptions.defaults()),
                SharedSpark.modelDir().toString(), Optional.empty(), Optional.empty());
    }

    private static GenerationSettings settings(double sample, String failure) {
        return new GenerationSettings("m", null, null, "autoregressive", 0, "cpu", 1, 0, 6, 0, 0, 1, 0, sample,
                failure == null ? null : GenerateOptions.FailurePlan.parse(failure));
    }

    private static PromptRow row(String id, String prompt) {
        return new PromptRow(id, prompt == null ? null : prompt.getBytes(StandardCharsets.UTF_8), "d", null, null, null);
    }

    private static List<GenerationRecord> drain(Iterator<GenerationRecord> it) {
        List<GenerationRecord> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    @Test
    void aModelDirectoryResolvesToItsSingleCheckpointAndIsVerified() {
        assertTrue(engine.modelFile().endsWith("stories260K.bin"), engine.modelFile());
        assertTrue(engine.modelFingerprint().startsWith("sha256:"), engine.modelFingerprint());
    }

    @Test
    void aModelWithoutAManifestIsRefused(@TempDir Path tmp) throws Exception {
        Files.copy(SharedSpark.modelDir().resolve("stories260K.bin"), tmp.resolve("stories260K.bin"));
        Files.copy(SharedSpark.modelDir().resolve("tok512.bin"), tmp.resolve("tok512.bin"));
        assertThrows(ModelVerificationException.class, () -> LoadedEngine.load(
                new LocalModelStore(ModelStoreOptions.defaults()), tmp.toString(), Optional.empty(), Optional.empty()));
    }

    @Test
    void everyRowGetsAResultOrAnErrorAndStatisticsAddUp() {
        List<PromptRow> rows = List.of(row("a", "Once upon a time"), row("b", null), row("c", "  "),
                new PromptRow("d", new byte[]{(byte) 0xff, 'x'}, null, null, null, null),
                new PromptRow("e", "Tom".getBytes(StandardCharsets.UTF_8), "d", 3, null, null),
                row("f", "The dog"), row("g", "The cat ".repeat(400)));
        List<TaskStats> finished = new ArrayList<>();
        PartitionGenerator gen = new PartitionGenerator(settings(0.5, null), engine, "cfg",
                new TaskIdentity("run", 0, 0, 0, "driver", "localhost"), "cpu", 1);
        List<GenerationRecord> out = drain(gen.generate(rows.iterator(), finished::add));

        assertEquals(7, out.size());
        assertEquals(List.of("length", "error", "error", "error", "length", "length", "error"),
                out.stream().map(GenerationRecord::finishReason).toList());
        assertEquals(6, out.get(0).completionTokens());
        assertEquals(3, out.get(4).completionTokens(), "per-row max_tokens wins over the job default");
        assertTrue(out.get(3).error().contains("UTF-8"), out.get(3).error());
        assertTrue(out.get(6).error().contains("context"), out.get(6).error());
        assertNotNull(out.get(6).promptTokens(), "the prompt was tokenised before it failed");
        assertNull(out.get(1).promptHash());
        for (GenerationRecord r : out) {
            assertTrue(r.failed() == (r.completion() == null) && r.failed() == (r.error() != null), r.toString());
            assertEquals("cfg", r.configHash());
        }

        assertEquals(1, finished.size(), "statistics are handed over once, after the last row");
        TaskStats s = finished.get(0);
        assertEquals(7, s.rows());
        assertEquals(4, s.failedRows());
        assertEquals(out.stream().mapToLong(GenerationRecord::completionTokens).sum(), s.generatedTokens());
        assertEquals(s.generatedTokens(), s.forwardPasses(), "autoregressive: one token per pass");
        assertEquals(1.0, s.tokensPerPass());
        // stride 2 samples rows 1, 3, 5 (0-based); only row 5 ("f") succeeded.
        assertEquals(List.of("f"), out.stream().filter(GenerationRecord::speedupSample).map(GenerationRecord::id).toList());
        assertEquals(1, s.sampleRows());
        assertNotNull(s.measuredSpeedup());
        assertEquals(out.get(5).completionTokens(), out.get(5).arCompletionTokens(), "greedy AR reference = same tokens");
    }

    /**
     * The job's MTP path with the shipped trained adapter: quadratic k=8 completions equal the engine's autoregressive
     * completions for the same prompts, acceptance is real (tokens/pass well above 1), and the task's histogram
     * accounts for every verification step.
     */
    @Test
    void quadraticDecodingWithTheShippedAdapterMatchesAutoregressive() {
        LoadedEngine mtp = LoadedEngine.load(new LocalModelStore(ModelStoreOptions.defaults()),
                SharedSpark.modelDir().toString(), Optional.empty(),
                Optional.of(SharedSpark.modelDir().resolve("mtp-adapter.safetensors").toString()));
        List<PromptRow> rows = List.of(row("a", "Once upon a time"), row("b", "Lily wanted to"),
                row("c", "The little dog"), row("d", "One day, a boy named Tim"));
        GenerationSettings quadratic = new GenerationSettings("m", null, "a", "quadratic", 8, "cpu", 1, 0, 96, 0, 0, 1,
                0, 0.0, null);
        GenerationSettings ar = new GenerationSettings("m", null, null, "autoregressive", 0, "cpu", 1, 0, 96, 0, 0, 1,
                0, 0.0, null);
        List<TaskStats> finished = new ArrayList<>();
        List<GenerationRecord> q = drain(new PartitionGenerator(quadratic, mtp, "cfg",
                new TaskIdentity("run", 0, 0, 0, "driver", "localhost"), "cpu", 1).generate(rows.iterator(),
                finished::add));
        List<GenerationRecord> a = drain(new PartitionGenerator(ar, engine, "cfg",
                new TaskIdentity("run", 0, 1, 0, "driver", "localhost"), "cpu", 1).generate(rows.iterator(), s -> { }));
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(a.get(i).completion(), q.get(i).completion(), "row " + i);
            assertEquals("quadratic", q.get(i).decoder());
        }
        TaskStats s = finished.get(0);
        assertEquals(8, s.k());
        assertTrue(s.tokensPerPass() > 2.0, "tokens/pass " + s.tokensPerPass());
        long steps = java.util.Arrays.stream(s.acceptHistogram()).sum();
        assertEquals(s.forwardPasses() - rows.size(), steps, "one histogram entry per verification step");
    }

    @Test
    void aShortTaskStillSamplesItsLastRow() {
        List<TaskStats> finished = new ArrayList<>();
        PartitionGenerator gen = new PartitionGenerator(settings(0.05, null), engine, "cfg",
                new TaskIdentity("run", 0, 0, 0, "driver", "localhost"), "cpu", 1);
        List<GenerationRecord> out = drain(gen.generate(List.of(row("a", "Hi"), row("b", "Lily")).iterator(), finished::add));
        assertEquals(List.of(false, true), out.stream().map(GenerationRecord::speedupSample).toList());
        assertEquals(1, finished.get(0).sampleRows());
    }

    @Test
    void theInjectedFailureHitsOnlyAttemptZeroOfItsPartition() {
        List<PromptRow> rows = List.of(row("a", "A"), row("b", "B"), row("c", "C"));
        List<TaskStats> finished = new ArrayList<>();
        Iterator<GenerationRecord> first = new PartitionGenerator(settings(0, "2:1"), engine, "cfg",
                new TaskIdentity("run", 0, 2, 0, "driver", "h"), "cpu", 1).generate(rows.iterator(), finished::add);
        first.next();
        IllegalStateException e = assertThrows(IllegalStateException.class, first::next);
        assertTrue(e.getMessage().contains("injected failure"));
        assertTrue(finished.isEmpty(), "a failed attempt reports no statistics");

        List<GenerationRecord> retry = drain(new PartitionGenerator(settings(0, "2:1"), engine, "cfg",
                new TaskIdentity("run", 0, 2, 1, "driver", "h"), "cpu", 1).generate(rows.iterator(), finished::add));
        assertEquals(3, retry.size());
        assertEquals(1, finished.size());
        assertNull(finished.get(0).measuredSpeedup(), "sampling off");
    }
}
