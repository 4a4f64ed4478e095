package io.mtpspark.engine.device;

import io.mtpspark.engine.cuda.CudaDevice;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The device the device tests run on: the emulator (CI), or the GPU with {@code -Dmtp.test.device=cuda} (the GPU
 * run kit, scripts/gpu-check.sh), so the same tests prove the device forward on both. Skips with the reason when the
 * emulator cannot be built here.
 */
final class TestDevices {
    private TestDevices() {
    }

    static boolean onGpu() {
        return "cuda".equals(System.getProperty("mtp.test.device"));
    }

    static DeviceApi open() {
        if (onGpu()) {
            return CudaDevice.open(0);
        }
        String why = EmulatorBuild.unavailableReason();
        assumeTrue(why == null, () -> "device emulator unavailable: " + why);
        return EmulatedDevice.open();
    }
}
