package io.mtpspark.engine.cuda;

import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.javacpp.Loader;

import java.nio.charset.StandardCharsets;

/**
 * The native half of {@link GpuDetector}: loads the cudart, cuBLAS and NVRTC bindings and asks for device 0. Only
 * CUDA 13.0 functions are called (the 13.1 preset binds lazily to a few newer ones, which would kill the JVM on a
 * 13.0 install). Any {@link LinkageError} escapes to the detector, which turns it into "no GPU".
 */
final class NativeProbe {
    private NativeProbe() {
    }

    static GpuStatus probe() {
        Loader.load(cudart.class);
        int[] count = new int[1];
        int err = cudart.cudaGetDeviceCount(count);
        if (err != cudart.cudaSuccess) {
            return GpuStatus.unavailable("cudaGetDeviceCount failed: " + CudaErrors.runtime(err));
        }
        if (count[0] == 0) {
            return GpuStatus.unavailable("the CUDA driver reports no devices");
        }
        int[] major = new int[1];
        int[] minor = new int[1];
        err = cudart.cudaDeviceGetAttribute(major, cudart.cudaDevAttrComputeCapabilityMajor, 0);
        if (err == cudart.cudaSuccess) {
            err = cudart.cudaDeviceGetAttribute(minor, cudart.cudaDevAttrComputeCapabilityMinor, 0);
        }
        if (err != cudart.cudaSuccess) {
            return GpuStatus.unavailable("cudaDeviceGetAttribute failed: " + CudaErrors.runtime(err));
        }
        String name = deviceName();
        // cuBLAS and NVRTC come from the system CUDA install, not from the Bytedeco jars: check them now so that
        // --backend auto does not pick a GPU it then cannot use.
        try {
            Loader.load(cublas.class);
        } catch (UnsatisfiedLinkError e) {
            return GpuStatus.unavailable("found " + name + " but cuBLAS could not be loaded: "
                    + GpuDetector.summarize(e));
        }
        try {
            Loader.load(nvrtc.class);
        } catch (UnsatisfiedLinkError e) {
            return GpuStatus.unavailable("found " + name + " but NVRTC could not be loaded: "
                    + GpuDetector.summarize(e));
        }
        return GpuStatus.found(name, major[0], minor[0], count[0]);
    }

    private static String deviceName() {
        if (cudart.cuInit(0) != cudart.CUDA_SUCCESS) {
            return "CUDA device 0";
        }
        int[] device = new int[1];
        if (cudart.cuDeviceGet(device, 0) != cudart.CUDA_SUCCESS) {
            return "CUDA device 0";
        }
        byte[] buf = new byte[256];
        if (cudart.cuDeviceGetName(buf, buf.length, device[0]) != cudart.CUDA_SUCCESS) {
            return "CUDA device 0";
        }
        int len = 0;
        while (len < buf.length && buf[len] != 0) {
            len++;
        }
        return new String(buf, 0, len, StandardCharsets.UTF_8);
    }
}
