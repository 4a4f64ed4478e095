package io.mtpspark.engine.tensor;

/**
 * A backend that passes every call to another one; subclasses change the few calls they are about (a backend lent
 * to a task that must not close it, a test backend that fails on purpose).
 */
public abstract class DelegatingBackend implements Backend {
    protected final Backend delegate;

    protected DelegatingBackend(Backend delegate) {
        this.delegate = delegate;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public void matmul(float[] out, float[] x, int rows, float[] w, int inDim, int outDim) {
        delegate.matmul(out, x, rows, w, inDim, outDim);
    }

    @Override
    public void matmul(float[] out, float[] x, int rows, WeightTensor w) {
        delegate.matmul(out, x, rows, w);
    }

    /**
     * To the delegate in one call. A subclass that changes {@link #matmul} overrides this with
     * {@link #eachMatmul}, so that its change applies to every weight.
     */
    @Override
    public void matmuls(float[][] outs, float[] x, int rows, WeightTensor[] ws) {
        delegate.matmuls(outs, x, rows, ws);
    }

    /** {@link #matmuls} as one call of this backend's {@link #matmul} per weight. */
    protected final void eachMatmul(float[][] outs, float[] x, int rows, WeightTensor[] ws) {
        for (int i = 0; i < ws.length; i++) {
            matmul(outs[i], x, rows, ws[i]);
        }
    }

    @Override
    public void scoresByPosition(float[] out, int outOff, float[] q, int qOff, float[] kT, int d0, int stride,
                                 int hd, int n, float scale) {
        delegate.scoresByPosition(out, outOff, q, qOff, kT, d0, stride, hd, n, scale);
    }

    @Override
    public void weightedValues(float[] out, int outOff, float[] weights, int[] cols, int m, float inv, float[] v,
                               int stride, int off, int hd) {
        delegate.weightedValues(out, outOff, weights, cols, m, inv, v, stride, off, hd);
    }

    @Override
    public float max(float[] a, int off, int n) {
        return delegate.max(a, off, n);
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return delegate.dot(a, aOff, b, bOff, n);
    }

    @Override
    public void axpy(float[] y, int yOff, float a, float[] x, int xOff, int n) {
        delegate.axpy(y, yOff, a, x, xOff, n);
    }

    @Override
    public void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] w, int n, float eps) {
        delegate.rmsnorm(out, outOff, x, xOff, w, n, eps);
    }

    @Override
    public float expShiftSum(float[] a, int off, int n, float shift) {
        return delegate.expShiftSum(a, off, n, shift);
    }

    @Override
    public void siluMul(float[] h, float[] g, int off, int n) {
        delegate.siluMul(h, g, off, n);
    }

    @Override
    public void parallelFor(int n, long workPerItem, RangeTask task) {
        delegate.parallelFor(n, workPerItem, task);
    }

    @Override
    public boolean holdsDeviceState() {
        return delegate.holdsDeviceState();
    }

    @Override
    public <T extends Backend> T unwrap(Class<T> type) {
        return type.isInstance(this) ? type.cast(this) : delegate.unwrap(type);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
