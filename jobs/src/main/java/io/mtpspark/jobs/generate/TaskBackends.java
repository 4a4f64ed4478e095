package io.mtpspark.jobs.generate;

import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.tensor.DelegatingBackend;

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
    private static final class Lent extends DelegatingBackend {
        Lent(Backend kept) {
            super(kept);
        }

        @Override
        public void close() {
            // the executor keeps it for the next task
        }
    }
}
