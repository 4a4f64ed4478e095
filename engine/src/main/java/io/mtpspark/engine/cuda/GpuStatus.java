package io.mtpspark.engine.cuda;

/**
 * What {@link GpuDetector} found: whether a usable CUDA GPU is there, its name and compute capability when it is,
 * and otherwise the reason it is not (a missing driver or library, zero devices, an error code), worded for a log
 * line or an error message.
 */
public record GpuStatus(boolean available, String deviceName, int computeMajor, int computeMinor, String reason) {

    static GpuStatus unavailable(String reason) {
        return new GpuStatus(false, null, 0, 0, reason);
    }

    static GpuStatus found(String deviceName, int major, int minor) {
        return new GpuStatus(true, deviceName, major, minor, "found " + deviceName + " (sm_" + major + minor + ")");
    }

    /** NVRTC's architecture flag for this device, e.g. {@code compute_90}. */
    String computeArch() {
        return "compute_" + computeMajor + computeMinor;
    }
}
