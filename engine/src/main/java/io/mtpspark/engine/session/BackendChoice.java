package io.mtpspark.engine.session;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.cuda.CudaDevice;
import io.mtpspark.engine.device.DeviceBackend;
import io.mtpspark.engine.device.ElementType;
import io.mtpspark.engine.device.EmulatedDevice;
import io.mtpspark.engine.cuda.GpuDetector;
import io.mtpspark.engine.cuda.GpuStatus;
import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tensor.ScalarBackend;

import java.util.logging.Logger;

/**
 * The {@code --backend} option: {@code auto} (CUDA when a usable GPU is found, else the CPU backend, saying why in
 * one log line), {@code cuda} (the device-resident forward on the GPU, or a clear error), {@code emulated} (the same
 * device engine on the CPU emulator of the GPU: slow, for debugging and for machines without a GPU; needs g++),
 * {@code cpu} (SIMD + threads) or {@code scalar} (the single-threaded reference oracle). Only {@code auto} and
 * {@code cuda} probe for a GPU; {@code cpu}, {@code scalar} and {@code emulated} never load CUDA classes. Device
 * weights are BF16 unless {@code -Dmtp.device.weights=f32} (exact comparison with the CPU).
 */
public enum BackendChoice {
    AUTO, CUDA, EMULATED, CPU, SCALAR;

    private static final Logger LOG = Logger.getLogger(BackendChoice.class.getName());

    public static BackendChoice parse(String s) {
        for (BackendChoice b : values()) {
            if (b.name().equalsIgnoreCase(s)) {
                return b;
            }
        }
        throw new IllegalArgumentException("--backend: expected auto, cuda, emulated, cpu or scalar, got \"" + s + "\"");
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
                        Backend cuda = onGpu(gpuOrdinal, t);
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
                yield onGpu(gpuOrdinal, t);
            }
            case EMULATED -> {
                EmulatedDevice device = EmulatedDevice.open(); // says so clearly when g++ is missing
                yield new DeviceBackend(device, deviceWeights(), new CpuBackend(t));
            }
            case CPU -> new CpuBackend(t);
            case SCALAR -> new ScalarBackend();
        };
    }

    private static Backend onGpu(int ordinal, int threads) {
        ElementType weights = deviceWeights();
        return new DeviceBackend(CudaDevice.open(ordinal), weights, new CpuBackend(threads));
    }

    /** {@code -Dmtp.device.weights}: the element type of weight matrices on the device (default BF16). */
    static ElementType deviceWeights() {
        String w = System.getProperty("mtp.device.weights", "bf16");
        return switch (w) {
            case "bf16" -> ElementType.BF16;
            case "f32" -> ElementType.F32;
            default -> throw new EngineException("-Dmtp.device.weights: expected bf16 or f32, got \"" + w + "\"");
        };
    }
}
