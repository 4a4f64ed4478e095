package io.mtpspark.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tensor.FaultyBackend;
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
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The per-partition service without Spark: error rows, sampling, statistics, the injected failure, batched decoding
 * and recovery from an engine fault.
 */
class PartitionGeneratorTest {
    private static LoadedEngine engine;

    @BeforeAll
    static void load() {
        engine = LoadedEngine.load(new LocalModelStore(ModelStoreOptions.defaults()),
                SharedSpark.modelDir().toString(), Optional.empty(), Optional.empty(), false, ANY_CONTENT);
    }

    /** The driver's digests are not cross-checked: unit tests load the model without a driver. */
    static final ModelIdentities ANY_CONTENT = new ModelIdentities(null, null, null, false);

    private static GenerationSettings settings(double sample, String failure) {
        return settings(1, sample, failure);
    }

    private static GenerationSettings settings(int batchSize, double sample, String failure) {
        return new GenerationSettings("m", null, null, "autoregressive", 0, batchSize, "cpu", 1, 0, 6, 0, 0, 1, 0,
                sample, failure == null ? null : GenerateOptions.FailurePlan.parse(failure));
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
                new LocalModelStore(ModelStoreOptions.defaults()), tmp.toString(), Optional.empty(), Optional.empty(), false,
                ANY_CONTENT));
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
        // an autoregressive run is its own reference: speedup 1 by definition, nothing sampled or re-decoded
        assertEquals(List.of(), out.stream().filter(GenerationRecord::speedupSample).map(GenerationRecord::id).toList());
        assertEquals(0, s.sampleRows());
        assertEquals(1.0, s.measuredSpeedup());
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
                Optional.of(SharedSpark.modelDir().resolve("mtp-adapter.safetensors").toString()), false, ANY_CONTENT);
        List<PromptRow> rows = List.of(row("a", "Once upon a time"), row("b", "Lily wanted to"),
                row("c", "The little dog"), row("d", "One day, a boy named Tim"));
        GenerationSettings quadratic = new GenerationSettings("m", null, "a", "quadratic", 8, 1, "cpu", 1, 0, 96, 0, 0,
                1, 0, 0.0, null);
        GenerationSettings ar = new GenerationSettings("m", null, null, "autoregressive", 0, 1, "cpu", 1, 0, 96, 0, 0,
                1, 0, 0.0, null);
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

    /**
     * An MTP task samples the first row of every domain it sees (and its last row when nothing else was sampled),
     * holds those records back, and measures them autoregressively at the task's batch size: each sampled record
     * carries the autoregressive tokens (greedy: the same count) and the task its speedup.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void everyDomainOfAnMtpTaskGetsASampleMeasuredAtTheTaskBatchSize(int batchSize) {
        LoadedEngine mtp = LoadedEngine.load(new LocalModelStore(ModelStoreOptions.defaults()),
                SharedSpark.modelDir().toString(), Optional.empty(),
                Optional.of(SharedSpark.modelDir().resolve("mtp-adapter.safetensors").toString()), false, ANY_CONTENT);
        GenerationSettings quadratic = new GenerationSettings("m", null, "a", "quadratic", 2, batchSize, "cpu", 1, 0,
                12, 0, 0, 1, 0, 0.05, null);
        List<TaskStats> finished = new ArrayList<>();
        List<PromptRow> rows = List.of(new PromptRow("a", bytes("Hi"), "one", null, null, null),
                new PromptRow("b", bytes("Lily"), "one", null, null, null),
                new PromptRow("c", bytes("The dog"), "two", null, null, null),
                new PromptRow("d", bytes("Sam"), "two", null, null, null));
        Map<String, GenerationRecord> out = byId(drain(new PartitionGenerator(quadratic, mtp, "cfg",
                new TaskIdentity("run", 0, 0, 0, "driver", "localhost"), "cpu", 1).generate(rows.iterator(),
                finished::add)));
        assertEquals(Set.of("a", "c"), out.values().stream().filter(GenerationRecord::speedupSample)
                .map(GenerationRecord::id).collect(Collectors.toSet()));
        for (String id : List.of("a", "c")) {
            assertEquals(out.get(id).completionTokens(), out.get(id).arCompletionTokens(), "greedy AR reference");
            assertNotNull(out.get(id).arWallMs());
        }
        assertNull(out.get("b").arCompletionTokens());
        assertEquals(2, finished.get(0).sampleRows());
        assertNotNull(finished.get(0).measuredSpeedup());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void theInjectedFailureHitsOnlyAttemptZeroOfItsPartition(int batchSize) {
        List<PromptRow> rows = List.of(row("a", "A"), row("b", "B"), row("c", "C"));
        List<TaskStats> finished = new ArrayList<>();
        Iterator<GenerationRecord> first = new PartitionGenerator(settings(batchSize, 0, "2:1"), engine, "cfg",
                new TaskIdentity("run", 0, 2, 0, "driver", "h"), "cpu", 1).generate(rows.iterator(), finished::add);
        first.next();
        IllegalStateException e = assertThrows(IllegalStateException.class, first::next);
        assertTrue(e.getMessage().contains("injected failure"));
        assertTrue(finished.isEmpty(), "a failed attempt reports no statistics");

        List<GenerationRecord> retry = drain(new PartitionGenerator(settings(batchSize, 0, "2:1"), engine, "cfg",
                new TaskIdentity("run", 0, 2, 1, "driver", "h"), "cpu", 1).generate(rows.iterator(), finished::add));
        assertEquals(3, retry.size());
        assertEquals(1, finished.size());
        assertEquals(0, finished.get(0).sampleRows(), "sampling off");
        assertEquals(1.0, finished.get(0).measuredSpeedup(), "autoregressive: 1 by definition");
    }

    /**
     * Batch size 3 over good rows of different lengths mixed with every kind of bad row: the bad ids, and only
     * they, are error rows; every good row gets exactly its batch-of-one result; records leave in completion order;
     * and the generator never holds more than a batch of rows it has not handed out.
     */
    @Test
    void aBatchedPartitionGivesEachRowItsUnbatchedResultOrItsError() {
        List<PromptRow> rows = List.of(
                new PromptRow("long-budget", bytes("Once upon a time"), "d", 20, null, null),
                new PromptRow("short-budget", bytes("The little dog"), "d", 2, null, null),
                new PromptRow("utf8", new byte[]{'H', 'i', (byte) 0xC3, (byte) 0x28}, "d", null, null, null),
                row("ok3", "Lily wanted to"), row("empty", ""), row("null", null),
                new PromptRow("zero", bytes("Tom"), "d", 0, null, null),
                row("too-long", "The cat ".repeat(400)), row("ok4", "One day, a boy named Tim"),
                new PromptRow("sampled-temp", bytes("There was a big tree"), "d", 9, 0.8, 7L), row("ok6", "Sam"));
        Set<String> bad = Set.of("utf8", "empty", "null", "zero", "too-long");
        List<TaskStats> stats1 = new ArrayList<>();
        List<GenerationRecord> one = drain(new PartitionGenerator(settings(1, 0, null), engine, "cfg",
                new TaskIdentity("run", 0, 0, 0, "driver", "h"), "cpu", 1).generate(rows.iterator(), stats1::add));
        List<TaskStats> stats3 = new ArrayList<>();
        CountingIterator<PromptRow> input = new CountingIterator<>(rows.iterator());
        Iterator<GenerationRecord> gen = new PartitionGenerator(settings(3, 0, null), engine, "cfg",
                new TaskIdentity("run", 0, 0, 0, "driver", "h"), "cpu", 1).generate(input, stats3::add);
        List<GenerationRecord> three = new ArrayList<>();
        while (gen.hasNext()) {
            three.add(gen.next());
            input.produced = three.size();
        }

        assertEquals(3, input.mostOutstanding, "rows pulled but not yet handed out never exceed the batch");
        assertEquals(rows.size(), three.size());
        Map<String, GenerationRecord> byId = byId(three);
        assertEquals(rows.stream().map(PromptRow::id).collect(Collectors.toSet()), byId.keySet(), "each id once");
        assertEquals(bad, three.stream().filter(GenerationRecord::failed).map(GenerationRecord::id)
                .collect(Collectors.toSet()));
        for (GenerationRecord expected : one) {
            GenerationRecord got = byId.get(expected.id());
            assertEquals(expected.completion(), got.completion(), expected.id());
            assertEquals(expected.completionTokens(), got.completionTokens(), expected.id());
            assertEquals(expected.forwardPasses(), got.forwardPasses(), expected.id());
            assertEquals(expected.finishReason(), got.finishReason(), expected.id());
            assertEquals(expected.error(), got.error(), expected.id());
            assertEquals(expected.promptTokens(), got.promptTokens(), expected.id());
        }
        assertEquals(20, byId.get("long-budget").completionTokens());
        assertTrue(three.indexOf(byId.get("short-budget")) < three.indexOf(byId.get("long-budget")),
                "completion order: the 2-token row admitted second leaves before the 20-token row");
        TaskStats s1 = stats1.get(0);
        TaskStats s3 = stats3.get(0);
        assertEquals(List.of(11L, 5L, s1.generatedTokens(), s1.promptTokens(), s1.forwardPasses()),
                List.of(s3.rows(), s3.failedRows(), s3.generatedTokens(), s3.promptTokens(), s3.forwardPasses()));
    }

    /**
     * An engine fault in the middle of a batched step loses no row: the decoder drops the rows then in flight and
     * decodes each again alone, which gives each its clean result; only rows that fail alone as well become error
     * rows, with that failure. The decoder is usable again and every later row gets its clean result.
     */
    @Test
    void aFailedBatchedStepRetriesTheRowsInFlightAloneAndDecodingGoesOn() {
        List<PromptRow> rows = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            rows.add(row("r" + i, List.of("Once upon a time", "The little dog", "Lily wanted to").get(i % 3)));
        }
        Map<String, GenerationRecord> clean = byId(drain(new PartitionGenerator(settings(3, 0, null), engine, "cfg",
                new TaskIdentity("run", 0, 0, 0, "driver", "h"), "cpu", 1).generate(rows.iterator(), s -> { })));
        // ~36 matmuls per forward of this model: the fault hits the third step, while rows r0..r2 are in flight.
        // One fault: the batched step fails and the three retries alone succeed. Four: the retries fail too.
        for (int faults : new int[]{1, 4}) {
            List<TaskStats> finished = new ArrayList<>();
            PartitionGenerator faulty = new PartitionGenerator(settings(3, 0, null), engine, "cfg",
                    new TaskIdentity("run", 0, 0, 0, "driver", "h"), "cpu", 1,
                    threads -> new FaultyBackend(new CpuBackend(threads), 80, faults));
            List<GenerationRecord> out = drain(faulty.generate(rows.iterator(), finished::add));

            assertEquals(9, byId(out).size(), "every row once");
            List<GenerationRecord> errors = out.stream().filter(GenerationRecord::failed).toList();
            assertEquals(faults == 1 ? List.of() : List.of("r0", "r1", "r2"),
                    errors.stream().map(GenerationRecord::id).sorted().toList(), faults + " fault(s)");
            for (GenerationRecord e : errors) {
                assertEquals("IllegalStateException: injected backend fault (FaultyBackend)", e.error());
                assertNotNull(e.promptTokens());
            }
            for (GenerationRecord r : out) {
                if (!r.failed()) {
                    assertEquals(clean.get(r.id()).completion(), r.completion(), r.id());
                    assertEquals(clean.get(r.id()).forwardPasses(), r.forwardPasses(), r.id());
                }
            }
            assertEquals(9, finished.get(0).rows());
            assertEquals(errors.size(), finished.get(0).failedRows());
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, GenerationRecord> byId(List<GenerationRecord> records) {
        Map<String, GenerationRecord> out = new HashMap<>();
        for (GenerationRecord r : records) {
            assertNull(out.put(r.id(), r), "duplicate id " + r.id());
        }
        return out;
    }

    /** Counts the rows the generator pulls and the most it held at once, given how many it has handed out. */
    private static final class CountingIterator<T> implements Iterator<T> {
        private final Iterator<T> delegate;
        int pulled;
        int produced;
        int mostOutstanding;

        CountingIterator(Iterator<T> delegate) {
            this.delegate = delegate;
        }

        @Override
        public boolean hasNext() {
            return delegate.hasNext();
        }

        @Override
        public T next() {
            T t = delegate.next();
            pulled++;
            mostOutstanding = Math.max(mostOutstanding, pulled - produced);
            return t;
        }
    }
}
