package io.mtpspark.jobs.generate;

import io.mtpspark.engine.tensor.Backend;

import java.util.HashMap;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Per-JVM lender of backends to tasks. A backend that {@linkplain Backend#holdsDeviceState() holds device state} (the
 * CUDA backend, with the model's weights resident on the GPU) is kept for the life of the executor, one per backend
 * choice and GPU, and lent to each task on that GPU: the weights go to the device once per executor, not once per
 * task, and two tasks never hold two copies. A lent backend ignores {@code close()}. Any other backend (CPU) belongs
 * to the task that asked for it, which closes it.
 */
final class TaskBackends {
    private static final Map<String, Backend> DEVICE = new HashMap<>();

    private TaskBackends() {
    }

    /**
     * The backend for a task: the kept one for ({@code choice}, {@code gpuOrdinal}) if there is one, else a new one
     * from {@code create}, kept (and lent) when it holds device state.
     */
    static synchronized Backend forTask(String choice, int gpuOrdinal, int threads, IntFunction<Backend> create) {
        String key = choice + "@" + gpuOrdinal;
        Backend kept = DEVICE.get(key);
        if (kept == null) {
            Backend made = create.apply(threads);
            if (!made.holdsDeviceState()) {
                return made;
            }
            DEVICE.put(key, made);
            kept = made;
        }
        return new Lent(kept);
    }

    /** Closes and forgets every kept backend (tests; an executor keeps them until it exits). */
    static synchronized void closeAll() {
        DEVICE.values().forEach(Backend::close);
        DEVICE.clear();
    }

    /** A kept backend as a task sees it: everything but {@code close()} goes through. */
    private record Lent(Backend kept) implements Backend {
        @Override
        public String name() {
            return kept.name();
        }

        @Override
        public void matmul(float[] out, float[] x, int rows, float[] w, int inDim, int outDim) {
            kept.matmul(out, x, rows, w, inDim, outDim);
        }

        @Override
        public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
            return kept.dot(a, aOff, b, bOff, n);
        }

        @Override
        public void axpy(float[] y, int yOff, float a, float[] x, int xOff, int n) {
            kept.axpy(y, yOff, a, x, xOff, n);
        }

        @Override
        public void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] w, int n, float eps) {
            kept.rmsnorm(out, outOff, x, xOff, w, n, eps);
        }

        @Override
        public float expShiftSum(float[] a, int off, int n, float shift) {
            return kept.expShiftSum(a, off, n, shift);
        }

        @Override
        public void siluMul(float[] h, float[] g, int off, int n) {
            kept.siluMul(h, g, off, n);
        }

        @Override
        public void parallelFor(int n, long workPerItem, RangeTask task) {
            kept.parallelFor(n, workPerItem, task);
        }

        @Override
        public boolean holdsDeviceState() {
            return true;
        }

        @Override
        public void close() {
            // the executor keeps it for the next task
        }
    }
}
