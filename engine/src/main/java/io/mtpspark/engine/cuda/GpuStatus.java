package io.mtpspark.engine.cuda;

/**
 * What {@link GpuDetector} found: whether a usable CUDA GPU is there, its name and compute capability when it is,
 * and otherwise the reason it is not (a missing driver or library, zero devices, an error code), worded for a log
 * line or an error message.
 */
public record GpuStatus(boolean available, String deviceName, int computeMajor, int computeMinor, int deviceCount,
                        String reason) {

    static GpuStatus unavailable(String reason) {
        return new GpuStatus(false, null, 0, 0, 0, reason);
    }

    /** Device 0's name and compute capability, and how many devices the driver reports. */
    static GpuStatus found(String deviceName, int major, int minor, int deviceCount) {
        return new GpuStatus(true, deviceName, major, minor, deviceCount, "found " + deviceName + " (sm_" + major
                + minor + ")" + (deviceCount > 1 ? " and " + (deviceCount - 1) + " more device(s)" : ""));
    }

    /** NVRTC's architecture flag for this device, e.g. {@code compute_90}. */
    String computeArch() {
        return "compute_" + computeMajor + computeMinor;
    }
}
