package io.mtpspark.engine.session;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.cuda.CudaBackend;
import io.mtpspark.engine.cuda.GpuDetector;
import io.mtpspark.engine.cuda.GpuStatus;
import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tensor.ScalarBackend;

import java.util.logging.Logger;

/**
 * The {@code --backend} option: {@code auto} (CUDA when a usable GPU is found, else the CPU backend, saying why in
 * one log line), {@code cuda} (the GPU or a clear error), {@code cpu} (SIMD + threads) or {@code scalar} (the
 * single-threaded reference oracle). Only {@code auto} and {@code cuda} probe for a GPU; {@code cpu} and
 * {@code scalar} never load CUDA classes.
 */
public enum BackendChoice {
    AUTO, CUDA, CPU, SCALAR;

    private static final Logger LOG = Logger.getLogger(BackendChoice.class.getName());

    public static BackendChoice parse(String s) {
        for (BackendChoice b : values()) {
            if (b.name().equalsIgnoreCase(s)) {
                return b;
            }
        }
        throw new IllegalArgumentException("--backend: expected auto, cuda, cpu or scalar, got \"" + s + "\"");
    }

    /**
     * Creates a backend; {@code threads <= 0} means one per available processor (CPU backend).
     *
     * @throws EngineException for {@code cuda} when no usable GPU is found, naming the reason
     */
    public Backend create(int threads) {
        return create(threads, 0);
    }

    /**
     * As {@link #create(int)}, on GPU {@code gpuOrdinal} when CUDA is chosen (the device a scheduler assigned to
     * this task; 0 when none was).
     */
    public Backend create(int threads, int gpuOrdinal) {
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        return switch (this) {
            case AUTO -> {
                GpuStatus gpu = GpuDetector.detect();
                String why = gpu.reason();
                if (gpu.available()) {
                    try {
                        Backend cuda = CudaBackend.onDevice(gpuOrdinal, t);
                        LOG.info("--backend auto: using " + cuda.name());
                        yield cuda;
                    } catch (EngineException | LinkageError e) {
                        // a GPU that fails to start (kernel compile, cuBLAS init) must not stop a CPU-capable run
                        why = "found " + gpu.deviceName() + " but the CUDA backend failed to start: " + e.getMessage();
                    }
                }
                CpuBackend cpu = new CpuBackend(t);
                LOG.info("--backend auto: no usable GPU (" + why + "); using " + cpu.name());
                yield cpu;
            }
            case CUDA -> {
                GpuStatus gpu = GpuDetector.detect();
                if (!gpu.available()) {
                    throw new EngineException("--backend cuda: no usable GPU: " + gpu.reason()
                            + " (use --backend cpu, or auto to fall back to the CPU)");
                }
                yield CudaBackend.onDevice(gpuOrdinal, t);
            }
            case CPU -> new CpuBackend(t);
            case SCALAR -> new ScalarBackend();
        };
    }
}
