package io.mtpspark.engine.tensor;

/**
 * Plain scalar loops on one thread, written for obviousness: the reference every optimised backend is checked
 * against.
 */
public final class ScalarBackend implements Backend {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void matmul(float[] out, float[] x, int rows, float[] w, int inDim, int outDim) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outDim; o++) {
                out[r * outDim + o] = dot(x, r * inDim, w, o * inDim, inDim);
            }
        }
    }

    /** Reads every weight through {@link WeightTensor#get}: the oracle for each dtype and storage. */
    @Override
    public void matmul(float[] out, float[] x, int rows, WeightTensor w) {
        int inDim = w.cols();
        int outDim = w.rows();
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outDim; o++) {
                float s = 0f;
                for (int i = 0; i < inDim; i++) {
                    s += x[r * inDim + i] * w.get(o, i);
                }
                out[r * outDim + o] = s;
            }
        }
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    @Override
    public void axpy(float[] y, int yOff, float a, float[] x, int xOff, int n) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    @Override
    public void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] w, int n, float eps) {
        float ss = 0f;
        for (int i = 0; i < n; i++) {
            ss += x[xOff + i] * x[xOff + i];
        }
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) {
            out[outOff + i] = w[i] * (scale * x[xOff + i]);
        }
    }

    @Override
    public float expShiftSum(float[] a, int off, int n, float shift) {
        return expShiftSumScalar(a, off, n, shift);
    }

    /** The scalar loop, shared with {@link CpuBackend}'s fallback without the Vector API. */
    static float expShiftSumScalar(float[] a, int off, int n, float shift) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(a[off + i] - shift);
            a[off + i] = e;
            sum += e;
        }
        return sum;
    }

    @Override
    public void siluMul(float[] h, float[] g, int off, int n) {
        siluMulScalar(h, g, off, n);
    }

    static void siluMulScalar(float[] h, float[] g, int off, int n) {
        for (int i = off; i < off + n; i++) {
            float x = h[i];
            h[i] = x / (1.0f + (float) Math.exp(-x)) * g[i];
        }
    }

    @Override
    public void parallelFor(int n, long workPerItem, RangeTask task) {
        task.run(0, n);
    }
}
