package io.mtpspark.engine.device;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.GenerationRequest;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.decode.LinearDecoder;
import io.mtpspark.engine.decode.QuadraticDecoder;
import io.mtpspark.engine.kvcache.SequenceCache;
import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.BlockBatch;
import io.mtpspark.engine.llama.BlockForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.SamplerHeadDrafter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.tensor.ScalarBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CUDA graphs of the device forward on the emulated device, whose graph replay repeats the captured launches with the
 * argument values of the step they were captured from (as a GPU does): replayed steps equal eager, unpadded steps bit
 * for bit (logits, argmax, hidden states) over random blocks and over linear and quadratic decoding at batch 4, and a
 * row count passed by value instead of read from the padded shape ({@link DeviceForward#plantRowCountByValue}) is
 * caught by the same comparison.
 */
class DeviceGraphTest {
    private static DeviceApi device;
    private static DeviceModel weights;
    private static LlamaModel model;
    private static MtpAdapter adapter;

    @BeforeAll
    static void open() {
        model = TestModels.stories();
        device = TestDevices.open();
        weights = DeviceModel.upload(device, model, ElementType.F32);
        adapter = MtpAdapter.load(TestModels.storiesDir().resolve("mtp-adapter.safetensors"), model);
    }

    @AfterAll
    static void close() {
        if (device != null) {
            weights.close();
            device.close();
        }
    }

    private static DeviceForward forward(int rows, int logitRows, int slots, boolean graphs) {
        return new DeviceForward(weights, rows, 512, logitRows, slots, new ScalarBackend()).graphs(graphs);
    }

    @Test
    void bucketsPadUpToPowersOfTwoThenMultiplesOfSixteen() {
        assertEquals(1, DeviceForward.bucket(1, 100));
        assertEquals(2, DeviceForward.bucket(2, 100));
        assertEquals(8, DeviceForward.bucket(5, 100));
        assertEquals(16, DeviceForward.bucket(9, 100));
        assertEquals(32, DeviceForward.bucket(17, 100));
        assertEquals(96, DeviceForward.bucket(81, 100));
        assertEquals(96, DeviceForward.bucket(90, 100));
        assertEquals(92, DeviceForward.bucket(90, 92), "capped at the forward's rows");
    }

    @Test
    void replayedStepsEqualEagerStepsBitForBit() {
        try (DeviceForward eager = forward(24, 24, 2, false); DeviceForward graphed = forward(24, 24, 2, true)) {
            assertEquals(-1, firstDifference(eager, graphed, 40), "a replayed step differs from the eager one");
            int[] counts = graphed.graphCounts();
            assertTrue(counts[0] == 2 && counts[1] >= 30, "graphs captured " + counts[0] + ", replayed " + counts[1]);
            assertEquals(0, eager.graphCounts()[0], "graphs off captures nothing");
        }
    }

    @Test
    void aRowCountCapturedByValueIsCaught() {
        try (DeviceForward eager = forward(24, 24, 2, false); DeviceForward graphed = forward(24, 24, 2, true)) {
            graphed.plantRowCountByValue();
            int step = firstDifference(eager, graphed, 40);
            assertTrue(step > 0, "the stale row count of a replayed graph went unnoticed");
        }
    }

    /**
     * Runs the same random steps through both forwards: one sequence of 9..16 rows, or two of 5..8, causal or
     * random block masks, the adapter's mask tokens on gated rows, random logit and gated rows, with counts drawn
     * inside fixed buckets so that most steps replay one of two graphs with row counts that differ from the
     * captured step's. Returns the first step whose logits, argmax or hidden states differ in any bit, or -1.
     */
    private static int firstDifference(DeviceForward a, DeviceForward b, int steps) {
        SplittableRandom rng = new SplittableRandom(17);
        int vocab = model.config().vocabSize();
        int dim = model.config().dim();
        SequenceCache[][] caches = {{a.newCache(512), a.newCache(512)}, {b.newCache(512), b.newCache(512)}};
        BlockBatch[] batches = {new BlockBatch(24, 2), new BlockBatch(24, 2)};
        int[] at = new int[2];
        for (int step = 0; step < steps; step++) {
            int segments = 1 + rng.nextInt(2);
            for (BlockBatch bb : batches) {
                bb.clear();
            }
            for (int s = 0; s < segments; s++) {
                // one sequence: 9..16 rows, 3..4 logit rows, 5..8 gated; two: 5..8 rows, 2 logit rows, 3..4 gated
                int n = segments == 1 ? 9 + rng.nextInt(8) : 5 + rng.nextInt(4);
                int nLogits = segments == 1 ? 3 + rng.nextInt(2) : 2;
                int nGated = segments == 1 ? 5 + rng.nextInt(4) : 3 + rng.nextInt(2);
                int[] tokens = new int[n];
                int[] pos = new int[n];
                boolean[] gate = new boolean[n];
                boolean[] local = new boolean[n * n];
                int[] logitRows = new int[n];
                for (int i = 0; i < n; i++) {
                    // gated rows last (mask tokens), logit rows among the first real ones and the last real one
                    boolean mask = i >= n - nGated;
                    tokens[i] = mask ? MtpAdapter.maskId(vocab, rng.nextInt(adapter.k())) : rng.nextInt(vocab);
                    pos[i] = at[s] + i;
                    gate[i] = mask;
                    for (int j = 0; j <= i; j++) {
                        local[i * n + j] = j == i || rng.nextInt(4) != 0;
                    }
                }
                for (int j = 0; j < nLogits; j++) {
                    logitRows[j] = j == nLogits - 1 ? n - nGated - 1 : j;
                }
                AttentionMask m = rng.nextBoolean() ? AttentionMask.CAUSAL : AttentionMask.cachePlusLocal(local, n);
                for (int f = 0; f < 2; f++) {
                    batches[f].add(tokens, pos, gate, n, m, caches[f][s], logitRows, nLogits);
                }
                at[s] += n;
            }
            a.forward(batches[0], adapter);
            b.forward(batches[1], adapter);
            int logits = batches[0].logitCount();
            if (!sameBits(a.logits(), b.logits(), logits * vocab) || !sameInts(a.argmax(), b.argmax(), logits)
                    || !sameBits(a.hidden(), b.hidden(), batches[0].rows() * dim)) {
                return step;
            }
        }
        return -1;
    }

    private static boolean sameBits(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) {
            if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameInts(int[] x, int[] y, int n) {
        for (int i = 0; i < n; i++) {
            if (x[i] != y[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Linear and quadratic decoding (k = 4) with host verification, at batch 1 (three requests one after another:
     * the decode steps replay one graph) and batch 4 (five requests over four slots, so the batch's rows change as
     * sequences finish and a slot is refilled): every step's logits with graphs on equal those with graphs off bit
     * for bit, and so do the generated ids.
     */
    @Test
    void linearAndQuadraticDecodingReplaysBitForBit() {
        int k = 4;
        for (String kind : new String[]{"linear", "quadratic"}) {
            for (int batch : new int[]{1, 4}) {
                int rows = batch * (kind.equals("linear") ? 2 * k + 1 : (k + 1) * (k + 1));
                List<List<float[]>> logits = new ArrayList<>();
                List<List<GenerationResult>> results = new ArrayList<>();
                int replayed = 0;
                for (boolean graphs : new boolean[]{false, true}) {
                    try (DeviceForward fwd = forward(rows, batch * (k + 1), batch, graphs)) {
                        Recording rec = new Recording(fwd);
                        var drafter = new SamplerHeadDrafter(model, adapter, fwd.backend());
                        Decoder d = kind.equals("linear") ? new LinearDecoder(rec, adapter, k, drafter, batch)
                                : new QuadraticDecoder(rec, adapter, k, drafter, batch);
                        results.add(d.generateAll(requests(batch == 1 ? 3 : 5, 16)));
                        logits.add(rec.logits);
                        replayed = fwd.graphCounts()[1];
                    }
                }
                String what = kind + " batch " + batch;
                assertEquals(logits.get(0).size(), logits.get(1).size(), what + ": forwards");
                for (int s = 0; s < logits.get(0).size(); s++) {
                    assertArrayEquals(logits.get(0).get(s), logits.get(1).get(s), what + " step " + s);
                }
                for (int i = 0; i < results.get(0).size(); i++) {
                    assertArrayEquals(results.get(0).get(i).generatedIds(), results.get(1).get(i).generatedIds());
                }
                int steps = logits.get(1).size();
                assertTrue(batch == 1 ? replayed >= steps / 2 : replayed > 0,
                        what + ": only " + replayed + " of " + steps + " steps replayed a graph");
                System.out.println(what + ": " + replayed + " of " + steps + " steps replayed a graph");
            }
        }
    }

    /** The stories openings as {@code count} greedy requests. */
    private static List<GenerationRequest> requests(int count, int maxTokens) {
        List<int[]> ids = StoriesPrompts.openings(model);
        List<GenerationRequest> r = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            r.add(new GenerationRequest(ids.get(i % ids.size()), maxTokens, SamplingOptions.GREEDY));
        }
        return r;
    }

    /** A forward that keeps a copy of every step's logits. */
    private static final class Recording implements BlockForward {
        private final DeviceForward f;
        private final List<float[]> logits = new ArrayList<>();

        Recording(DeviceForward f) {
            this.f = f;
        }

        @Override
        public LlamaModel model() {
            return f.model();
        }

        @Override
        public Backend backend() {
            return f.backend();
        }

        @Override
        public int maxRows() {
            return f.maxRows();
        }

        @Override
        public int maxContext() {
            return f.maxContext();
        }

        @Override
        public int maxLogitRows() {
            return f.maxLogitRows();
        }

        @Override
        public SequenceCache newCache(int capacity) {
            return f.newCache(capacity);
        }

        @Override
        public void forward(BlockBatch batch, MtpAdapter a) {
            f.forward(batch, a);
            logits.add(java.util.Arrays.copyOf(f.logits(), batch.logitCount() * model.config().vocabSize()));
        }

        @Override
        public float[] hidden() {
            return f.hidden();
        }

        @Override
        public float[] logits() {
            return f.logits();
        }
    }
}
