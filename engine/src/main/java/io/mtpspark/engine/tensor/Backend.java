package io.mtpspark.engine.tensor;

/**
 * The numeric kernels the forward pass is built from, over flat row-major {@code float[]} activations with explicit
 * shapes and offsets and model weights as {@link WeightTensor}s. {@link ScalarBackend} is the plain single-threaded oracle; {@link CpuBackend} is the fast one
 * (Vector API inner loops, rows of large matmuls spread over threads) and is tested against the oracle.
 */
public interface Backend extends AutoCloseable {

    /** A unit of parallel work over the index range [from, to). */
    @FunctionalInterface
    interface RangeTask {
        void run(int from, int to);
    }

    String name();

    /**
     * {@code out[r*outDim + o] = dot(x[r*inDim ..], w[o*inDim ..])} for every row r < rows and output o < outDim: a
     * Linear layer with weight {@code [outDim][inDim]} applied to {@code rows} input rows.
     */
    void matmul(float[] out, float[] x, int rows, float[] w, int inDim, int outDim);

    /**
     * The same Linear layer over a model weight {@code w} of shape {@code [outDim][inDim]} = {@code [w.rows()]
     * [w.cols()]}, read in the dtype it is stored in (F32, BF16 or F16; widened to float for the arithmetic). The
     * {@code float[]} form above is for small heap weights (adapter branches, sampler head).
     */
    void matmul(float[] out, float[] x, int rows, WeightTensor w);

    /**
     * Several Linear layers over the same input rows (q, k and v; gate and up): {@code outs[i]} gets what
     * {@code matmul(outs[i], x, rows, ws[i])} would, bit for bit. A backend may prepare the input once for all of
     * them and split their outputs over its threads in one pass.
     */
    default void matmuls(float[][] outs, float[] x, int rows, WeightTensor[] ws) {
        for (int i = 0; i < ws.length; i++) {
            matmul(outs[i], x, rows, ws[i]);
        }
    }

    float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /** {@code y[yOff+i] += a * x[xOff+i]}. */
    void axpy(float[] y, int yOff, float a, float[] x, int xOff, int n);

    /**
     * Attention scores of one query against {@code n} consecutive key positions stored position-major:
     * {@code out[outOff + j] = scale · s_j}, {@code s_j} the FMA chain {@code s = fma(q[qOff + e], kT[(d0 + e) ·
     * stride + j], s)} for e = 0 .. hd-1 from 0. Each score is formed exactly as {@link #scoreFma} forms it, whatever
     * n is or which lanes compute it.
     */
    default void scoresByPosition(float[] out, int outOff, float[] q, int qOff, float[] kT, int d0, int stride,
                                  int hd, int n, float scale) {
        for (int j = 0; j < n; j++) {
            float s = 0f;
            for (int e = 0; e < hd; e++) {
                s = Math.fma(q[qOff + e], kT[(d0 + e) * stride + j], s);
            }
            out[outOff + j] = s * scale;
        }
    }

    /** One attention score from a row-major key: the same FMA chain as {@link #scoresByPosition}, times scale. */
    static float scoreFma(float[] q, int qOff, float[] k, int kOff, int hd, float scale) {
        float s = 0f;
        for (int e = 0; e < hd; e++) {
            s = Math.fma(q[qOff + e], k[kOff + e], s);
        }
        return s * scale;
    }

    /**
     * One head's attention output: {@code out[outOff, outOff + hd)} set to the sum over j < m, in order, of
     * {@code (weights[j] · inv) · v[cols[j] · stride + off + e]}, skipping zero weights; {@code cols} is in increasing
     * order (the forward gathers a row's visible positions in order). Heads narrower than 16 add
     * {@code w · v} lane by lane (a multiply, then an add); wider ones go through {@link #axpy}. A backend may
     * compute it any way that gives these exact bits.
     */
    default void weightedValues(float[] out, int outOff, float[] weights, int[] cols, int m, float inv, float[] v,
                                int stride, int off, int hd) {
        java.util.Arrays.fill(out, outOff, outOff + hd, 0f);
        boolean small = hd < 16; // below one SIMD register the vector kernels only add overhead
        for (int j = 0; j < m; j++) {
            float a = weights[j];
            if (a != 0f) {
                int vOff = cols[j] * stride + off;
                if (small) {
                    float w = a * inv;
                    for (int e = 0; e < hd; e++) {
                        out[outOff + e] += w * v[vOff + e];
                    }
                } else {
                    axpy(out, outOff, a * inv, v, vOff, hd);
                }
            }
        }
    }

    /**
     * The largest of {@code a[off, off + n)} ({@code -Infinity} when n is 0): the softmax shift. Which of two equal
     * or signed-zero maxima is returned changes no {@code exp(a - max)}.
     */
    default float max(float[] a, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            if (a[off + i] > max) {
                max = a[off + i];
            }
        }
        return max;
    }

    /** RMSNorm of one row: {@code out = w * x / sqrt(mean(x^2) + eps)}. */
    void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] w, int n, float eps);

    /** {@code a[off+i] = exp(a[off+i] - shift)} for i < n; returns the sum (a softmax numerator and denominator). */
    float expShiftSum(float[] a, int off, int n, float shift);

    /** SwiGLU activation in place: {@code h[i] = silu(h[i]) * g[i]} for {@code off <= i < off + n}. */
    void siluMul(float[] h, float[] g, int off, int n);

    /** {@link #siluMul(float[], float[], int, int)} from index 0. */
    default void siluMul(float[] h, float[] g, int n) {
        siluMul(h, g, 0, n);
    }

    /** Runs {@code task} over [0, n), in parallel when {@code workPerItem * n} is large enough to pay for it. */
    void parallelFor(int n, long workPerItem, RangeTask task);

    /**
     * True when this backend holds state that is costly to rebuild and scarce, such as weights resident in GPU
     * memory: a long-lived process (a Spark executor) should then keep one per device and lend it to its tasks
     * instead of opening one per task.
     */
    default boolean holdsDeviceState() {
        return false;
    }

    /**
     * This backend as a {@code type}, looking through wrappers that delegate to another backend (a lent or
     * fault-injecting backend), or null: how the engine finds the device a forward should run on.
     */
    default <T extends Backend> T unwrap(Class<T> type) {
        return type.isInstance(this) ? type.cast(this) : null;
    }

    @Override
    default void close() {
    }
}
