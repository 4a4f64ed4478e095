package io.mtpspark.engine.tensor;

/**
 * A backend that computes like the one it wraps but throws once, on a chosen matmul call, the way a device error
 * surfaces in the middle of a forward pass. Tests use it to check that callers recover from an engine failure they
 * cannot predict; other modules' tests get it through the engine's test jar.
 */
public final class FaultyBackend extends DelegatingBackend {
    private long callsBeforeFault;
    private int faults;

    /** Lets {@code callsBeforeFault} matmul calls through, fails the next one, then computes normally again. */
    public FaultyBackend(Backend delegate, long callsBeforeFault) {
        this(delegate, callsBeforeFault, 1);
    }

    /** As {@link #FaultyBackend(Backend, long)}, failing {@code faults} consecutive matmul calls. */
    public FaultyBackend(Backend delegate, long callsBeforeFault, int faults) {
        super(delegate);
        this.callsBeforeFault = callsBeforeFault;
        this.faults = faults;
    }

    /** Arms the fault again: the matmul call after the next {@code calls} ones fails. */
    public void failAfter(long calls) {
        callsBeforeFault = calls;
        faults = 1;
    }

    @Override
    public void matmul(float[] out, float[] x, int rows, float[] w, int inDim, int outDim) {
        countCall();
        delegate.matmul(out, x, rows, w, inDim, outDim);
    }

    @Override
    public void matmul(float[] out, float[] x, int rows, WeightTensor w) {
        countCall();
        delegate.matmul(out, x, rows, w);
    }

    @Override
    public void matmuls(float[][] outs, float[] x, int rows, WeightTensor[] ws) {
        eachMatmul(outs, x, rows, ws); // one counted call per weight
    }

    private void countCall() {
        if (callsBeforeFault > 0) {
            callsBeforeFault--;
        } else if (faults > 0) {
            faults--;
            throw new IllegalStateException("injected backend fault (FaultyBackend)");
        }
    }
}
