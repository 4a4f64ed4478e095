package io.mtpspark.engine.tensor;

/**
 * A backend that computes like the one it wraps but throws once, on a chosen matmul call, the way a device error
 * surfaces in the middle of a forward pass. Tests use it to check that callers recover from an engine failure they
 * cannot predict; other modules' tests get it through the engine's test jar.
 */
public final class FaultyBackend implements Backend {
    private final Backend delegate;
    private long callsBeforeFault;
    private int faults;

    /** Lets {@code callsBeforeFault} matmul calls through, fails the next one, then computes normally again. */
    public FaultyBackend(Backend delegate, long callsBeforeFault) {
        this(delegate, callsBeforeFault, 1);
    }

    /** As {@link #FaultyBackend(Backend, long)}, failing {@code faults} consecutive matmul calls. */
    public FaultyBackend(Backend delegate, long callsBeforeFault, int faults) {
        this.delegate = delegate;
        this.callsBeforeFault = callsBeforeFault;
        this.faults = faults;
    }

    /** Arms the fault again: the matmul call after the next {@code calls} ones fails. */
    public void failAfter(long calls) {
        callsBeforeFault = calls;
        faults = 1;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public void matmul(float[] out, float[] x, int rows, float[] w, int inDim, int outDim) {
        if (callsBeforeFault > 0) {
            callsBeforeFault--;
        } else if (faults > 0) {
            faults--;
            throw new IllegalStateException("injected backend fault (FaultyBackend)");
        }
        delegate.matmul(out, x, rows, w, inDim, outDim);
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
    public void close() {
        delegate.close();
    }
}
