package io.mtpspark.engine.train;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Double-precision kernels for training: dot, axpy and the three products of a Linear layer (forward, input
 * gradient, weight gradient) over row-major {@code [rows][in]} inputs and {@code [out][in]} weights. Training runs in
 * double so that the hand-written backward can be checked against finite differences to ~1e-7; SIMD lanes come from
 * the Vector API when its module is present.
 */
final class DoubleKernels {
    private static final boolean VECTOR = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    private DoubleKernels() {
    }

    static double dot(double[] a, int aOff, double[] b, int bOff, int n) {
        if (VECTOR && n >= 16) {
            return Simd.dot(a, aOff, b, bOff, n);
        }
        double s0 = 0;
        double s1 = 0;
        int i = 0;
        for (; i + 2 <= n; i += 2) {
            s0 += a[aOff + i] * b[bOff + i];
            s1 += a[aOff + i + 1] * b[bOff + i + 1];
        }
        for (; i < n; i++) {
            s0 += a[aOff + i] * b[bOff + i];
        }
        return s0 + s1;
    }

    /** y += a * x. */
    static void axpy(double[] y, int yOff, double a, double[] x, int xOff, int n) {
        if (VECTOR && n >= 16) {
            Simd.axpy(y, yOff, a, x, xOff, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    /** y[r][o] = x[r] · w[o] (a Linear layer without bias). */
    static void matmul(double[] y, double[] x, int rows, double[] w, int in, int out) {
        product(y, x, rows, w, in, out, false);
    }

    /** y[r][o] += x[r] · w[o]; with a transposed weight this is a Linear layer's input gradient. */
    static void matmulAdd(double[] y, double[] x, int rows, double[] w, int in, int out) {
        product(y, x, rows, w, in, out, true);
    }

    private static void product(double[] y, double[] x, int rows, double[] w, int in, int out, boolean add) {
        int r = 0;
        if (VECTOR && in >= 8) {
            // four input rows per weight row: each weight vector is loaded once for four dot products
            for (; r + 4 <= rows; r += 4) {
                for (int o = 0; o < out; o++) {
                    Simd.dot4(x, r * in, in, w, o * in, y, r * out + o, out, add);
                }
            }
        }
        for (; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double d = dot(x, r * in, w, o * in, in);
                y[r * out + o] = add ? y[r * out + o] + d : d;
            }
        }
    }

    /** The transpose of a row-major [rows][cols] matrix. */
    static double[] transpose(double[] m, int rowsCount, int cols) {
        double[] t = new double[m.length];
        for (int r = 0; r < rowsCount; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rowsCount + r] = m[r * cols + c];
            }
        }
        return t;
    }

    /** dx[r] += Σ_o dy[r][o] · w[o]: the input gradient of a Linear layer. */
    static void matmulBackInput(double[] dx, double[] dy, int rows, double[] w, int in, int out) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double g = dy[r * out + o];
                if (g != 0) {
                    axpy(dx, r * in, g, w, o * in, in);
                }
            }
        }
    }

    /** dw[o] += Σ_r dy[r][o] · x[r]: the weight gradient of a Linear layer. */
    static void matmulBackWeight(double[] dw, double[] dy, double[] x, int rows, int in, int out) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double g = dy[r * out + o];
                if (g != 0) {
                    axpy(dw, o * in, g, x, r * in, in);
                }
            }
        }
    }

    /** The Vector API code, in its own class so the outer class loads without the incubator module. */
    private static final class Simd {
        private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;

        static double dot(double[] a, int aOff, double[] b, int bOff, int n) {
            DoubleVector acc = DoubleVector.zero(S);
            int i = 0;
            int bound = S.loopBound(n);
            for (; i < bound; i += S.length()) {
                acc = DoubleVector.fromArray(S, a, aOff + i).fma(DoubleVector.fromArray(S, b, bOff + i), acc);
            }
            double s = acc.reduceLanes(VectorOperators.ADD);
            for (; i < n; i++) {
                s += a[aOff + i] * b[bOff + i];
            }
            return s;
        }

        static void dot4(double[] x, int x0, int stride, double[] w, int wOff, double[] y, int y0, int yStride,
                         boolean add) {
            int n = stride;
            DoubleVector a0 = DoubleVector.zero(S);
            DoubleVector a1 = DoubleVector.zero(S);
            DoubleVector a2 = DoubleVector.zero(S);
            DoubleVector a3 = DoubleVector.zero(S);
            int i = 0;
            int bound = S.loopBound(n);
            for (; i < bound; i += S.length()) {
                DoubleVector wv = DoubleVector.fromArray(S, w, wOff + i);
                a0 = DoubleVector.fromArray(S, x, x0 + i).fma(wv, a0);
                a1 = DoubleVector.fromArray(S, x, x0 + stride + i).fma(wv, a1);
                a2 = DoubleVector.fromArray(S, x, x0 + 2 * stride + i).fma(wv, a2);
                a3 = DoubleVector.fromArray(S, x, x0 + 3 * stride + i).fma(wv, a3);
            }
            double s0 = a0.reduceLanes(VectorOperators.ADD);
            double s1 = a1.reduceLanes(VectorOperators.ADD);
            double s2 = a2.reduceLanes(VectorOperators.ADD);
            double s3 = a3.reduceLanes(VectorOperators.ADD);
            for (; i < n; i++) {
                double wi = w[wOff + i];
                s0 += x[x0 + i] * wi;
                s1 += x[x0 + stride + i] * wi;
                s2 += x[x0 + 2 * stride + i] * wi;
                s3 += x[x0 + 3 * stride + i] * wi;
            }
            if (add) {
                y[y0] += s0;
                y[y0 + yStride] += s1;
                y[y0 + 2 * yStride] += s2;
                y[y0 + 3 * yStride] += s3;
            } else {
                y[y0] = s0;
                y[y0 + yStride] = s1;
                y[y0 + 2 * yStride] = s2;
                y[y0 + 3 * yStride] = s3;
            }
        }

        static void axpy(double[] y, int yOff, double a, double[] x, int xOff, int n) {
            DoubleVector av = DoubleVector.broadcast(S, a);
            int i = 0;
            int bound = S.loopBound(n);
            for (; i < bound; i += S.length()) {
                DoubleVector.fromArray(S, x, xOff + i).fma(av, DoubleVector.fromArray(S, y, yOff + i))
                        .intoArray(y, yOff + i);
            }
            for (; i < n; i++) {
                y[yOff + i] += a * x[xOff + i];
            }
        }
    }
}
