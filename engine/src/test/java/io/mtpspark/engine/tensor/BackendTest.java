package io.mtpspark.engine.tensor;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SIMD/threaded CPU backend against the scalar oracle, on shapes that hit the tails and the parallel path. */
class BackendTest {
    private final ScalarBackend ref = new ScalarBackend();

    @Test
    void vectorApiIsActiveInTests() {
        assertTrue(CpuBackend.vectorized(), "tests run with --add-modules jdk.incubator.vector; the fast path must be on");
    }

    @Test
    void matmulMatchesOracle() {
        try (CpuBackend cpu = new CpuBackend(2)) {
            SplittableRandom rng = new SplittableRandom(1);
            for (int[] s : new int[][]{{1, 64, 64}, {5, 67, 33}, {81, 256, 300}, {9, 1000, 517}, {3, 7, 1}}) {
                int rows = s[0];
                int in = s[1];
                int out = s[2];
                float[] x = random(rng, rows * in);
                float[] w = random(rng, out * in);
                float[] a = new float[rows * out];
                float[] b = new float[rows * out];
                ref.matmul(a, x, rows, w, in, out);
                cpu.matmul(b, x, rows, w, in, out);
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], 1e-4f * (1 + Math.abs(a[i])), "shape " + rows + "x" + in + "x" + out);
                }
            }
        }
    }

    @Test
    void elementwiseKernelsMatchOracle() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            SplittableRandom rng = new SplittableRandom(2);
            for (int n : new int[]{1, 8, 17, 64, 301}) {
                float[] x = random(rng, n);
                float[] w = random(rng, n);
                float[] a = new float[n];
                float[] b = new float[n];
                ref.rmsnorm(a, 0, x, 0, w, n, 1e-5f);
                cpu.rmsnorm(b, 0, x, 0, w, n, 1e-5f);
                assertClose(a, b, 1e-5f);
                float[] e1 = x.clone();
                float[] e2 = x.clone();
                assertEquals(ref.expShiftSum(e1, 0, n, 0.3f), cpu.expShiftSum(e2, 0, n, 0.3f), 1e-4f * n);
                assertClose(e1, e2, 1e-6f);
                float[] h1 = x.clone();
                float[] h2 = x.clone();
                ref.siluMul(h1, w, n);
                cpu.siluMul(h2, w, n);
                assertClose(h1, h2, 1e-6f);
                float[] y1 = w.clone();
                float[] y2 = w.clone();
                ref.axpy(y1, 0, 0.7f, x, 0, n);
                cpu.axpy(y2, 0, 0.7f, x, 0, n);
                assertClose(y1, y2, 1e-6f);
            }
        }
    }

    /**
     * The attention-weighted value sum gives the oracle's exact bits for heads narrower than 16 (one register: the
     * SIMD path; and less), with zero weights skipped and columns gathered out of order; wider heads go through each
     * backend's own axpy (fused on the CPU backend), so there they agree to rounding.
     */
    @Test
    void weightedValuesAreBitIdenticalToTheOracle() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            SplittableRandom rng = new SplittableRandom(4);
            for (int hd : new int[]{4, 8, VectorKernels.lanes(), 12, 16, 64}) { // 8: the half-width head
                int positions = 300;
                int stride = 3 * hd;
                float[] v = new float[positions * stride];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (rng.nextGaussian() * 3);
                }
                int m = 200;
                float[] weights = new float[m];
                int[] cols = new int[m];
                for (int j = 0; j < m; j++) {
                    weights[j] = j % 7 == 3 ? 0f : (float) rng.nextDouble();
                    cols[j] = (int) ((long) j * (positions - 1) / (m - 1)); // increasing, ending at the last slot
                }
                // the middle head of a slot, and the last, whose full-vector load from the last slot would leave v
                for (int off : new int[]{hd, 2 * hd}) {
                    float[] a = new float[2 * hd];
                    float[] b = new float[2 * hd];
                    java.util.Arrays.fill(a, 9f); // stale output is overwritten
                    java.util.Arrays.fill(b, 9f);
                    ref.weightedValues(a, hd, weights, cols, m, 0.37f, v, stride, off, hd);
                    cpu.weightedValues(b, hd, weights, cols, m, 0.37f, v, stride, off, hd);
                    if (hd < 16) {
                        assertArrayEquals(a, b, "head dim " + hd + ", offset " + off);
                    } else {
                        for (int i = 0; i < a.length; i++) {
                            assertEquals(a[i], b[i], 1e-5f * (1 + Math.abs(a[i])), "head dim " + hd + " at " + i);
                        }
                    }
                }
            }
        }
    }

    /** The softmax shift: the SIMD maximum (lanes, then the tail) is the oracle's on every length. */
    @Test
    void maxMatchesTheOracle() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            SplittableRandom rng = new SplittableRandom(5);
            for (int n : new int[]{0, 1, 7, 8, 9, 16, 23, 301}) {
                for (int at = 0; at < Math.max(1, n); at++) { // the largest value in every position, tail included
                    float[] a = new float[n + 3];
                    for (int i = 0; i < a.length; i++) {
                        a[i] = (float) (rng.nextGaussian() - 20);
                    }
                    if (n > 0) {
                        a[2 + at] = 5f + at;
                    }
                    a[0] = a[n + 2] = 100f; // outside the range: never the answer
                    assertEquals(ref.max(a, 2, n), cpu.max(a, 2, n), "n " + n + " largest at " + at);
                }
            }
            assertEquals(Float.NEGATIVE_INFINITY, cpu.max(new float[4], 1, 0));
        }
    }

    @Test
    void parallelForCoversEveryIndexOnce() {
        try (CpuBackend cpu = new CpuBackend(2)) {
            int[] hits = new int[1000];
            for (int round = 0; round < 50; round++) {
                cpu.parallelFor(1000, 1 << 20, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        hits[i]++;
                    }
                });
            }
            for (int h : hits) {
                assertEquals(50, h);
            }
        }
    }

    private static void assertClose(float[] a, float[] b, float tol) {
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], tol * (1 + Math.abs(a[i])), "index " + i);
        }
    }

    private static float[] random(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        return v;
    }
}
