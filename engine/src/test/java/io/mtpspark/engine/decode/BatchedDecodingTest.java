package io.mtpspark.engine.decode;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.kvcache.KvCache;
import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.BlockBatch;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.RandomModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.SamplerHeadDrafter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tensor.FaultyBackend;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batched = unbatched: several sequences in one forward give each sequence bit-for-bit the logits, hidden states and
 * KV entries of its own forward, and continuous batching through every decoder gives each request exactly the result
 * it gets alone (tokens, passes, finish reason, acceptance), greedy and sampled, whatever it was batched with.
 */
class BatchedDecodingTest {
    private static final Backend BACKEND = new CpuBackend(2);

    @Test
    void batchedForwardIsBitIdenticalToSeparateForwards() {
        for (LlamaModel model : List.of(TestModels.stories(),
                RandomModel.create(RandomModel.tinyConfig(96, true), 5))) {
            int vocab = model.config().vocabSize();
            MtpAdapter adapter = MtpAdapter.random(model, 4, 4, 9);
            SplittableRandom rng = new SplittableRandom(3);
            // three sequences with different cache lengths; blocks: a gated MTP-style block, a single token and a
            // causal prompt chunk
            int[] cached = {5, 17, 0};
            int[] rows = {9, 1, 6};
            int seqs = cached.length;
            int[][] prefix = new int[seqs][];
            int[][] tokens = new int[seqs][];
            int[][] positions = new int[seqs][];
            boolean[][] gates = new boolean[seqs][];
            AttentionMask[] masks = new AttentionMask[seqs];
            int[][] logitRows = new int[seqs][];
            for (int s = 0; s < seqs; s++) {
                prefix[s] = randomTokens(rng, cached[s], vocab);
                tokens[s] = randomTokens(rng, rows[s], vocab);
                positions[s] = new int[rows[s]];
                gates[s] = new boolean[rows[s]];
                logitRows[s] = new int[rows[s]];
                for (int i = 0; i < rows[s]; i++) {
                    positions[s][i] = cached[s] + i;
                    logitRows[s][i] = rows[s] - 1 - i; // reversed: logits come out in the order asked
                }
                masks[s] = AttentionMask.CAUSAL;
            }
            // sequence 0: rows 5..8 are masks with the gated branch, visible only to themselves and earlier rows
            boolean[] local = new boolean[81];
            for (int i = 0; i < 9; i++) {
                for (int j = 0; j <= i; j++) {
                    local[i * 9 + j] = i < 5 ? j < 5 || j == i : true;
                }
                if (i >= 5) {
                    tokens[0][i] = MtpAdapter.maskId(vocab, i - 4);
                    gates[0][i] = true;
                }
            }
            masks[0] = AttentionMask.cachePlusLocal(local, 9);

            LlamaForward one = new LlamaForward(model, BACKEND, 32, 64);
            LlamaForward many = new LlamaForward(model, BACKEND, 32, 64);
            KvCache[] alone = new KvCache[seqs];
            KvCache[] batched = new KvCache[seqs];
            float[][] logits = new float[seqs][];
            float[][] hidden = new float[seqs][];
            for (int s = 0; s < seqs; s++) {
                alone[s] = prefilled(one, model, prefix[s]);
                batched[s] = prefilled(one, model, prefix[s]);
                one.forward(tokens[s], positions[s], rows[s], masks[s], alone[s], logitRows[s], rows[s], gates[s],
                        adapter);
                logits[s] = Arrays.copyOf(one.logits(), rows[s] * vocab);
                hidden[s] = Arrays.copyOf(one.hidden(), rows[s] * model.config().dim());
            }
            BlockBatch batch = new BlockBatch(32, 4);
            for (int s = 0; s < seqs; s++) {
                batch.add(tokens[s], positions[s], gates[s], rows[s], masks[s], batched[s], logitRows[s], rows[s]);
            }
            many.forward(batch, adapter);
            int dim = model.config().dim();
            int row = 0;
            int logitRow = 0;
            for (int s = 0; s < seqs; s++) {
                assertArrayEquals(logits[s], Arrays.copyOfRange(many.logits(), logitRow * vocab,
                        (logitRow + rows[s]) * vocab), "logits of sequence " + s);
                assertArrayEquals(hidden[s], Arrays.copyOfRange(many.hidden(), row * dim, (row + rows[s]) * dim),
                        "hidden states of sequence " + s);
                assertEquals(alone[s].length(), batched[s].length());
                for (int l = 0; l < model.config().nLayers(); l++) {
                    int used = alone[s].length() * model.config().kvDim();
                    assertArrayEquals(Arrays.copyOf(alone[s].keys(l), used), Arrays.copyOf(batched[s].keys(l), used),
                            "keys of sequence " + s + " layer " + l);
                    assertArrayEquals(Arrays.copyOf(alone[s].values(l), used),
                            Arrays.copyOf(batched[s].values(l), used), "values of sequence " + s + " layer " + l);
                }
                row += rows[s];
                logitRow += rows[s];
            }
        }
    }

    @Test
    void batchRejectsTheSameCacheTwiceAndOversizedBlocks() {
        LlamaModel model = TestModels.stories();
        KvCache cache = new KvCache(model.config(), 16);
        BlockBatch batch = new BlockBatch(4, 2);
        batch.add(new int[]{1}, new int[]{0}, null, 1, AttentionMask.CAUSAL, cache, null, 0);
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> batch.add(new int[]{1},
                new int[]{0}, null, 1, AttentionMask.CAUSAL, cache, null, 0));
        assertTrue(twice.getMessage().contains("added twice"), twice.getMessage());
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class, () -> batch.add(new int[4],
                new int[4], null, 4, AttentionMask.CAUSAL, new KvCache(model.config(), 16), null, 0));
        assertTrue(big.getMessage().contains("exceeds the batch of 4 rows"), big.getMessage());
        assertEquals(1, batch.segments(), "a refused block leaves the batch as it was");
    }

    @Test
    void everyDecoderGivesEachRequestItsUnbatchedResult() {
        LlamaModel model = TestModels.stories();
        MtpAdapter shipped = MtpAdapter.load(TestModels.storiesDir().resolve("mtp-adapter.safetensors"), model);
        List<GenerationRequest> requests = requests(model, 13, 256);
        check(model, shipped, requests, 512);
        // a short context: sequences run into the context limit at different steps
        check(model, MtpAdapter.random(model, 4, 4, 1), requests(model, 9, 40), 48);
    }

    @Test
    void batchingOnARandomGqaModelWithBias() {
        LlamaModel model = RandomModel.create(RandomModel.tinyConfig(96, true), 21);
        check(model, MtpAdapter.random(model, 4, 4, 2), requests(model, 10, 30), 64);
    }

    private static void check(LlamaModel model, MtpAdapter adapter, List<GenerationRequest> requests, int ctx) {
        for (int k : new int[]{1, 3, adapter.k()}) {
            int rows = (k + 1) * (k + 1);
            List<IntFunction<Decoder>> decoders = List.of(
                    b -> new AutoregressiveDecoder(new LlamaForward(model, BACKEND, 16 * b, ctx, b), b),
                    b -> new LinearDecoder(new LlamaForward(model, BACKEND, rows * b, ctx), adapter, k,
                            new SamplerHeadDrafter(model, adapter, BACKEND), b),
                    b -> new QuadraticDecoder(new LlamaForward(model, BACKEND, rows * b, ctx), adapter, k,
                            new SamplerHeadDrafter(model, adapter, BACKEND), b));
            for (IntFunction<Decoder> make : decoders) {
                Decoder single = make.apply(1);
                if (single instanceof AutoregressiveDecoder && k != 1) {
                    continue; // k does not matter to it
                }
                List<GenerationResult> expected = new ArrayList<>();
                for (GenerationRequest r : requests) {
                    expected.add(single.generate(r.promptIds(), r.maxTokens(), r.sampling()));
                }
                for (int b : new int[]{3, 8}) {
                    Decoder batched = make.apply(b);
                    List<GenerationResult> got = batched.generateAll(requests);
                    for (int i = 0; i < requests.size(); i++) {
                        String what = single.name() + " k=" + k + " batch " + b + " request " + i;
                        GenerationResult e = expected.get(i);
                        GenerationResult g = got.get(i);
                        assertArrayEquals(e.generatedIds(), g.generatedIds(), what);
                        assertEquals(e.finishReason(), g.finishReason(), what);
                        assertEquals(e.forwardPasses(), g.forwardPasses(), what);
                        assertArrayEquals(e.stats().acceptHistogram(), g.stats().acceptHistogram(), what);
                        assertArrayEquals(e.stats().draftsAccepted(), g.stats().draftsAccepted(), what);
                    }
                    assertEquals(0, batched.active());
                }
            }
        }
    }

    /** Prompts of 1..30 tokens (some longer than an AR prompt chunk of 16 rows), budgets 0..60, greedy and sampled. */
    private static List<GenerationRequest> requests(LlamaModel model, int count, int maxBudget) {
        int vocab = model.config().vocabSize();
        SplittableRandom rng = new SplittableRandom(count);
        List<GenerationRequest> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int[] p = randomTokens(rng, 1 + rng.nextInt(30), vocab);
            p[0] = model.config().bosId();
            int budget = i == 2 ? 0 : 1 + rng.nextInt(Math.min(60, maxBudget));
            SamplingOptions sampling = i % 3 == 1 ? new SamplingOptions(0.9f, 0, 0.95f, 100 + i)
                    : SamplingOptions.GREEDY;
            out.add(new GenerationRequest(p, budget, sampling));
        }
        return out;
    }

    @Test
    void streamingSubmitRefusesBadPromptsWithoutAdmittingThem() {
        LlamaModel model = TestModels.stories();
        Decoder d = new AutoregressiveDecoder(new LlamaForward(model, BACKEND, 32, 64, 2), 2);
        EngineException tooLong = assertThrows(EngineException.class,
                () -> d.submit(new GenerationRequest(new int[64], 4, SamplingOptions.GREEDY)));
        assertTrue(tooLong.getMessage().contains("does not fit the context of 64"), tooLong.getMessage());
        assertEquals(0, d.active());
        long a = d.submit(new GenerationRequest(new int[]{1, 400}, 3, SamplingOptions.GREEDY));
        long b = d.submit(new GenerationRequest(new int[]{1, 401, 402}, 5, SamplingOptions.GREEDY));
        assertThrows(IllegalStateException.class,
                () -> d.submit(new GenerationRequest(new int[]{1}, 1, SamplingOptions.GREEDY)));
        List<Long> tickets = new ArrayList<>();
        int steps = 0;
        int mostPasses = 0;
        while (d.active() > 0) {
            steps++;
            for (Decoder.Completion c : d.step()) {
                tickets.add(c.ticket());
                mostPasses = Math.max(mostPasses, c.result().forwardPasses());
            }
        }
        assertEquals(List.of(a, b), tickets.stream().sorted().toList(), "each request completes exactly once");
        assertEquals(mostPasses, steps, "both sequences share every forward");
        EngineException bad = assertThrows(EngineException.class, () -> d.generateAll(List.of(
                new GenerationRequest(new int[]{1, 2}, 1, SamplingOptions.GREEDY),
                new GenerationRequest(new int[0], 1, SamplingOptions.GREEDY))));
        assertTrue(bad.getMessage().startsWith("request 1: empty prompt"), bad.getMessage());
    }

    /**
     * A forward that throws mid-step leaves sequences half-stepped; {@link Decoder#abort()} frees every slot and the
     * same decoder then gives every request its clean result (and {@code generateAll} recovers by itself).
     */
    @Test
    void afterAFailedStepAbortLeavesTheDecoderAsGoodAsNew() {
        LlamaModel model = TestModels.stories();
        MtpAdapter shipped = MtpAdapter.load(TestModels.storiesDir().resolve("mtp-adapter.safetensors"), model);
        List<GenerationRequest> requests = requests(model, 7, 256);
        int rows = 9 * 9;
        List<BiFunction<Backend, Integer, Decoder>> decoders = List.of(
                (be, b) -> new AutoregressiveDecoder(new LlamaForward(model, be, 16 * b, 128, b), b),
                (be, b) -> new QuadraticDecoder(new LlamaForward(model, be, rows * b, 128), shipped, 8,
                        new SamplerHeadDrafter(model, shipped, be), b));
        for (BiFunction<Backend, Integer, Decoder> make : decoders) {
            List<GenerationResult> clean = make.apply(BACKEND, 3).generateAll(requests);
            // ~40 matmuls per forward: the fault hits the third or fourth step, with all three slots mid-decode
            FaultyBackend faulty = new FaultyBackend(BACKEND, 120);
            Decoder d = make.apply(faulty, 3);
            for (int i = 0; i < 3; i++) {
                d.submit(requests.get(i));
            }
            RuntimeException fault = assertThrows(RuntimeException.class, () -> {
                while (d.active() > 0) {
                    d.step();
                }
            });
            assertTrue(fault.getMessage().contains("injected backend fault"), fault.getMessage());
            assertTrue(d.active() > 0, "the fault hit sequences in flight");
            d.abort();
            assertEquals(0, d.active());
            assertTrue(d.hasFreeSlot());
            assertEquals(List.of(), d.step(), "aborted requests never complete");
            assertSameResults(clean, d.generateAll(requests), d.name() + " after abort");

            faulty.failAfter(200);
            assertThrows(RuntimeException.class, () -> d.generateAll(requests));
            assertEquals(0, d.active(), "a failed generateAll frees its slots");
            assertSameResults(clean, d.generateAll(requests), d.name() + " after a failed generateAll");
        }
    }

    private static void assertSameResults(List<GenerationResult> expected, List<GenerationResult> got, String what) {
        assertEquals(expected.size(), got.size(), what);
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i).generatedIds(), got.get(i).generatedIds(), what + " request " + i);
            assertEquals(expected.get(i).forwardPasses(), got.get(i).forwardPasses(), what + " request " + i);
            assertArrayEquals(expected.get(i).stats().acceptHistogram(), got.get(i).stats().acceptHistogram(),
                    what + " request " + i);
        }
    }

    private static KvCache prefilled(LlamaForward f, LlamaModel model, int[] prefix) {
        KvCache cache = new KvCache(model.config(), 64);
        if (prefix.length > 0) {
            int[] pos = new int[prefix.length];
            for (int i = 0; i < pos.length; i++) {
                pos[i] = i;
            }
            f.forward(prefix, pos, prefix.length, AttentionMask.CAUSAL, cache, null, 0);
        }
        return cache;
    }

    private static int[] randomTokens(SplittableRandom rng, int n, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = 3 + rng.nextInt(vocab - 3);
        }
        return t;
    }
}
