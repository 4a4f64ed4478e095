package io.mtpspark.engine.device;

import io.mtpspark.engine.sampling.Sampler;
import io.mtpspark.engine.sampling.SamplingOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Speculative sampling on the device ({@code spec_sample.cu}) preserves the target distribution: over many seeded
 * sequences with the same three real rows (fixed logits, two fixed drafts, one-hot proposals), the first emitted
 * token follows p_0, the second (given the first draft accepted) p_1 and the bonus (given both accepted) p_2, by a
 * chi-square test, with plain temperature and with top-k + top-p (the reference distribution is
 * {@link Sampler#distribution}'s); a rejection ends the segment; temperature 0 is the argmax; a sequence's tokens
 * depend on its seed only, not on where it sits in the batch.
 */
class DeviceSpeculativeSamplingTest {
    private static final int VOCAB = 10;
    private static final int ROWS = 3;
    private static final int THREADS = 32; // any multiple of 32 up to 256; one warp keeps the emulator quick
    private static final float[][] LOGITS = {
            {2.0f, 1.2f, 0.3f, -0.5f, 1.9f, 0.0f, -1.0f, 0.8f, 1.1f, -2.0f},
            {0.1f, 2.2f, -0.3f, 1.0f, 0.5f, 1.7f, -0.8f, 0.2f, 0.9f, 0.4f},
            {-1.0f, 0.3f, 1.5f, 0.7f, -0.2f, 0.6f, 2.0f, 1.2f, -0.4f, 0.0f}};
    private static final int DRAFT1 = 4; // likely under p_0 but not the mode: both accepted and rejected often
    private static final int DRAFT2 = 1;
    private static DeviceApi d;
    private static int kernel;

    @BeforeAll
    static void open() {
        d = TestDevices.open();
        kernel = d.kernel("spec_sample");
    }

    @AfterAll
    static void close() {
        if (d != null) {
            d.close();
        }
    }

    /** Runs {@code seeds.length} segments of the three rows; returns [segment][row] tokens (-1 = not written). */
    private static int[][] run(SamplingOptions o, long[] seeds) {
        int segments = seeds.length;
        int rows = segments * ROWS;
        long logits = d.malloc(4L * rows * VOCAB);
        long tokens = d.malloc(4L * rows);
        long positions = d.malloc(4L * rows);
        long logitRows = d.malloc(4L * rows);
        long segLogits = d.malloc(8L * segments);
        long params = d.malloc(20L * segments);
        long out = d.malloc(4L * rows);
        try (HostBuffer h = d.pinned(4L * rows * VOCAB)) {
            var f = h.bytes().asFloatBuffer();
            for (int r = 0; r < rows; r++) {
                f.put(r * VOCAB, LOGITS[r % ROWS]);
            }
            d.copyToDevice(logits, h, 0, 4L * rows * VOCAB);
            d.sync();
            var in = h.bytes().asIntBuffer();
            for (int s = 0; s < segments; s++) { // the block's real rows: a token then the two drafts
                in.put(s * ROWS, 7).put(s * ROWS + 1, DRAFT1).put(s * ROWS + 2, DRAFT2);
            }
            d.copyToDevice(tokens, h, 0, 4L * rows);
            d.sync();
            for (int r = 0; r < rows; r++) {
                in.put(r, 20 + r % ROWS);
            }
            d.copyToDevice(positions, h, 0, 4L * rows);
            d.sync();
            for (int r = 0; r < rows; r++) {
                in.put(r, r);
            }
            d.copyToDevice(logitRows, h, 0, 4L * rows);
            d.sync();
            for (int s = 0; s < segments; s++) {
                in.put(2 * s, s * ROWS).put(2 * s + 1, ROWS);
            }
            d.copyToDevice(segLogits, h, 0, 8L * segments);
            d.sync();
            for (int s = 0; s < segments; s++) {
                in.put(5 * s, Float.floatToRawIntBits(o.temperature())).put(5 * s + 1, o.topK())
                        .put(5 * s + 2, Float.floatToRawIntBits(o.topP())).put(5 * s + 3, (int) seeds[s])
                        .put(5 * s + 4, (int) (seeds[s] >>> 32));
            }
            d.copyToDevice(params, h, 0, 20L * segments);
            d.memset(out, 0xff, 4L * rows);
            d.launch(kernel, segments, 1, 1, THREADS, new LaunchArgs(8).ptr(logits).i32(VOCAB).ptr(tokens)
                    .ptr(positions).ptr(logitRows).ptr(segLogits).ptr(params).ptr(out));
            d.copyToHost(h, 0, out, 4L * rows);
            d.sync();
            int[][] got = new int[segments][ROWS];
            for (int s = 0; s < segments; s++) {
                for (int g = 0; g < ROWS; g++) {
                    got[s][g] = in.get(s * ROWS + g);
                }
            }
            return got;
        } finally {
            for (long p : new long[]{logits, tokens, positions, logitRows, segLogits, params, out}) {
                d.free(p);
            }
        }
    }

    private static long[] seeds(int n, long base) {
        long[] s = new long[n];
        SplittableRandom rng = new SplittableRandom(base);
        for (int i = 0; i < n; i++) {
            s[i] = rng.nextLong();
        }
        return s;
    }

    @Test
    void plainTemperatureSamplingKeepsTheTargetDistribution() {
        check(new SamplingOptions(1.0f, 0, 1f, 0), 20_000);
    }

    @Test
    void topKAndTopPSamplingKeepsTheTruncatedDistribution() {
        check(new SamplingOptions(0.7f, 6, 0.8f, 0), 4_000);
    }

    private static void check(SamplingOptions o, int runs) {
        double[][] p = new double[ROWS][];
        Sampler sampler = new Sampler(o, VOCAB);
        for (int g = 0; g < ROWS; g++) {
            float[] dist = new float[VOCAB];
            sampler.distribution(LOGITS[g], 0, VOCAB, dist);
            p[g] = new double[VOCAB];
            for (int i = 0; i < VOCAB; i++) {
                p[g][i] = dist[i];
            }
        }
        int[][] got = run(o, seeds(runs, 3));
        long[][] counts = new long[ROWS][VOCAB];
        int[] n = new int[ROWS];
        for (int[] t : got) {
            counts[0][t[0]]++;
            n[0]++;
            boolean first = t[0] == DRAFT1;
            if (!first) {
                assertEquals(-1, t[1], "a rejection at row 0 ends the segment");
                continue;
            }
            assertTrue(t[1] >= 0, "row 0 wrote the draft but the segment ended: a rejection drew the rejected draft");
            counts[1][t[1]]++;
            n[1]++;
            if (t[1] != DRAFT2) {
                assertEquals(-1, t[2], "a rejection at row 1 ends the segment");
                continue;
            }
            assertTrue(t[2] >= 0, "row 1 wrote the draft but the segment ended: a rejection drew the rejected draft");
            counts[2][t[2]]++;
            n[2]++;
        }
        assertTrue(n[1] > runs / 10 && n[1] < runs * 9 / 10, "the first draft both accepted and rejected: " + n[1]);
        assertTrue(n[2] > 300, "both drafts accepted often enough to test the bonus: " + n[2]);
        for (int g = 0; g < ROWS; g++) {
            double chi = 0;
            int df = -1;
            for (int i = 0; i < VOCAB; i++) {
                double e = p[g][i] * n[g];
                if (p[g][i] == 0) {
                    assertEquals(0, counts[g][i], "row " + g + ": token " + i + " is outside top-k/top-p");
                    continue;
                }
                chi += (counts[g][i] - e) * (counts[g][i] - e) / e;
                df++;
            }
            // the 0.999 quantiles of chi-square with 1..9 degrees of freedom
            double[] q999 = {0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12, 27.88};
            assertTrue(chi < q999[df], o + " row " + g + ": chi-square " + chi + " with " + df
                    + " degrees of freedom over " + n[g] + " draws");
        }
    }

    @Test
    void temperatureZeroWritesEveryRowsArgmax() {
        int[][] got = run(new SamplingOptions(0f, 0, 1f, 0), seeds(3, 1));
        for (int[] t : got) {
            for (int g = 0; g < ROWS; g++) {
                assertEquals(Sampler.argmax(LOGITS[g], 0, VOCAB), t[g], "row " + g);
            }
        }
    }

    @Test
    void aSequencesTokensDependOnItsSeedNotItsPlaceInTheBatch() {
        long[] s = seeds(64, 9);
        long[] reversed = new long[s.length];
        for (int i = 0; i < s.length; i++) {
            reversed[i] = s[s.length - 1 - i];
        }
        SamplingOptions o = new SamplingOptions(1.0f, 0, 1f, 0);
        int[][] a = run(o, s);
        int[][] b = run(o, reversed);
        int[][] alone = run(o, new long[]{s[5]});
        for (int i = 0; i < s.length; i++) {
            assertArrayEquals(a[i], b[s.length - 1 - i], "sequence " + i);
        }
        assertArrayEquals(a[5], alone[0], "the same seed alone in a batch of one");
    }
}
