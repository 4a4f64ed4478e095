package io.mtpspark.engine.cuda;

import io.mtpspark.engine.tensor.ScalarBackend;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The row-major → column-major mapping of the matmul, without a GPU: the exact parameters the backend passes to
 * {@code cublasSgemm} go through a reference column-major GEMM written from the BLAS definition (including cuBLAS's
 * leading-dimension rules), and must reproduce {@link ScalarBackend#matmul}.
 */
class GemmShapeTest {

    /** BLAS sgemm, column-major: C = op(A) · op(B), alpha 1, beta 0. */
    static float[] sgemm(GemmShape g, float[] a, float[] b) {
        // cuBLAS rejects these with CUBLAS_STATUS_INVALID_VALUE
        assertTrue(g.lda() >= Math.max(1, g.transA() ? g.k() : g.m()), "lda " + g);
        assertTrue(g.ldb() >= Math.max(1, g.transB() ? g.n() : g.k()), "ldb " + g);
        assertTrue(g.ldc() >= Math.max(1, g.m()), "ldc " + g);
        float[] c = new float[g.ldc() * g.n()];
        for (int j = 0; j < g.n(); j++) {
            for (int i = 0; i < g.m(); i++) {
                float s = 0;
                for (int l = 0; l < g.k(); l++) {
                    float av = g.transA() ? a[l + i * g.lda()] : a[i + l * g.lda()];
                    float bv = g.transB() ? b[j + l * g.ldb()] : b[l + j * g.ldb()];
                    s += av * bv;
                }
                c[i + j * g.ldc()] = s;
            }
        }
        return c;
    }

    @Test
    void mappingReproducesTheRowMajorMatmul() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int[] s : new int[][]{{1, 8, 5}, {3, 7, 11}, {9, 16, 4}, {81, 5, 6}}) {
            int rows = s[0];
            int in = s[1];
            int out = s[2];
            float[] x = new float[rows * in];
            float[] w = new float[out * in];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rng.nextDouble(-1, 1);
            }
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) rng.nextDouble(-1, 1);
            }
            float[] expected = new float[rows * out];
            new ScalarBackend().matmul(expected, x, rows, w, in, out);
            float[] actual = sgemm(GemmShape.forMatmul(rows, in, out), w, x);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 1e-5f, "rows=" + rows + " in=" + in + " out=" + out + " at " + i);
            }
            // the classic mistake, transposing the other operand, must not pass (the check can fail)
            GemmShape wrong = new GemmShape(false, true, out, rows, in, out, rows, out);
            if (rows > 1 && in != out && in != rows) {
                boolean differs;
                try {
                    float[] bad = sgemm(wrong, w, x);
                    differs = false;
                    for (int i = 0; i < expected.length; i++) {
                        differs |= Math.abs(expected[i] - bad[i]) > 1e-3f;
                    }
                } catch (AssertionError | ArrayIndexOutOfBoundsException e) {
                    differs = true;
                }
                assertTrue(differs, "a wrong mapping went unnoticed for " + rows + "x" + in + "->" + out);
            }
        }
    }
}
