package io.mtpspark.engine.cuda;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@link KernelChecks} on the GPU (NVRTC-compiled, launched like the backend does). Not run on a GPU yet. */
class CudaKernelsTest extends KernelChecks {
    private static DeviceHarness gpu;

    @BeforeAll
    static void open() {
        if (GpuDetector.detect().available()) {
            gpu = new DeviceHarness();
        }
    }

    @AfterAll
    static void close() {
        if (gpu != null) {
            gpu.close();
        }
    }

    @BeforeEach
    void requireGpu() {
        assumeTrue(gpu != null, () -> "no usable GPU, kernel test skipped: " + GpuDetector.detect().reason());
    }

    @Override
    KernelDevice dev() {
        return gpu;
    }
}
