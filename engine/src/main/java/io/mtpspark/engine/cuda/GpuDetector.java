package io.mtpspark.engine.cuda;

import java.util.logging.Logger;

/**
 * Finds out once per JVM whether a CUDA GPU can be used, without ever crashing the JVM when there is none. Without a
 * driver, loading Bytedeco's cudart bindings throws an {@link UnsatisfiedLinkError} (and the class stays poisoned
 * for the JVM's lifetime, so later touches throw {@link NoClassDefFoundError}); with a driver but no usable device,
 * {@code cudaGetDeviceCount} returns an error code. Both, zero devices, and a missing cuBLAS or NVRTC library all
 * count as "no GPU", with the reason kept for the log line and for {@code --backend cuda}'s error message. The
 * system property {@code mtp.cuda.disable=true} forces "no GPU" (to keep a GPU machine on the CPU path).
 */
public final class GpuDetector {
    private static final Logger LOG = Logger.getLogger(GpuDetector.class.getName());
    private static GpuStatus cached;

    private GpuDetector() {
    }

    /** The cached answer; the first call probes (loads native libraries, which takes a moment). */
    public static synchronized GpuStatus detect() {
        if (cached == null) {
            cached = probe();
            LOG.fine(() -> "CUDA detection: " + cached.reason());
        }
        return cached;
    }

    private static GpuStatus probe() {
        return probe(true);
    }

    /**
     * @param checkDriverFiles on Linux, answer "no GPU" without loading any native library when none of the files an
     *                         NVIDIA driver creates exists: a CPU-only executor then never extracts the CUDA bindings
     *                         (hundreds of MB) just to learn there is no driver
     */
    static GpuStatus probe(boolean checkDriverFiles) {
        if (Boolean.getBoolean("mtp.cuda.disable")) {
            return GpuStatus.unavailable("CUDA disabled by -Dmtp.cuda.disable=true");
        }
        if (checkDriverFiles && System.getProperty("os.name", "").startsWith("Linux") && !driverFilesPresent()) {
            return GpuStatus.unavailable("no NVIDIA driver on this machine (none of " + String.join(", ", DRIVER_FILES)
                    + " exists)");
        }
        try {
            // NativeProbe is the only class here that names Bytedeco classes at detection time: it is loaded (and
            // cudart initialised) only inside this try, so every linkage failure lands in the catch below.
            return NativeProbe.probe();
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            LOG.fine(() -> "CUDA libraries could not be loaded: " + describe(e));
            return GpuStatus.unavailable("CUDA libraries could not be loaded: " + summarize(e));
        } catch (RuntimeException e) {
            return GpuStatus.unavailable("CUDA probe failed: " + describe(e));
        }
    }

    /** Files an NVIDIA driver creates on Linux: the proc entry and device nodes, or WSL2's GPU paravirtual device. */
    static final java.util.List<String> DRIVER_FILES = java.util.List.of("/proc/driver/nvidia/version",
            "/dev/nvidiactl", "/dev/nvidia0", "/dev/dxg");

    private static boolean driverFilesPresent() {
        for (String f : DRIVER_FILES) {
            if (java.nio.file.Files.exists(java.nio.file.Path.of(f))) {
                return true;
            }
        }
        return false;
    }

    /**
     * The root cause in a few words: the dlopen message of the library that is really missing (Bytedeco wraps it in
     * a "no jniX in java.library.path" error), without the JNI library's cache path, plus a hint for the common
     * case of no driver.
     */
    static String summarize(Throwable e) {
        Throwable root = e;
        for (int depth = 0; root.getCause() != null && root.getCause() != root && depth < 5; depth++) {
            root = root.getCause();
        }
        String msg = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        int so = msg.indexOf(".so: ");
        if (so > 0 && msg.lastIndexOf('/', so) >= 0) {
            msg = msg.substring(so + ".so: ".length()); // "/path/libjnicudart.so: libcuda.so.1: cannot open ..."
        }
        if (msg.contains("libcuda.so")) {
            msg += " (no NVIDIA driver on this machine)";
        }
        return msg;
    }

    /** The whole chain of messages: Bytedeco puts the dlopen reason (e.g. libcuda.so.1 missing) in the cause. */
    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(e.getClass().getSimpleName());
        if (e.getMessage() != null) {
            sb.append(": ").append(e.getMessage());
        }
        Throwable c = e.getCause();
        for (int depth = 0; c != null && c != e && depth < 3; depth++, c = c.getCause()) {
            sb.append("; caused by ").append(c.getClass().getSimpleName());
            if (c.getMessage() != null) {
                sb.append(": ").append(c.getMessage());
            }
        }
        return sb.toString();
    }
}
