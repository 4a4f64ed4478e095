package io.mtpspark.engine.cuda;

import io.mtpspark.engine.EngineException;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.javacpp.BytePointer;

/**
 * Turns CUDA status codes (runtime, driver, cuBLAS, NVRTC) into {@link EngineException}s that name the call and the
 * error, so a failure on the GPU reads like every other engine error instead of a bare integer.
 */
final class CudaErrors {
    private CudaErrors() {
    }

    static String runtime(int err) {
        BytePointer name = cudart.cudaGetErrorName(err);
        BytePointer text = cudart.cudaGetErrorString(err);
        return (name == null ? "error " + err : name.getString()) + (text == null ? "" : " (" + text.getString() + ")");
    }

    static void checkRuntime(int err, String call) {
        if (err != cudart.cudaSuccess) {
            throw new EngineException("CUDA " + call + " failed: " + runtime(err));
        }
    }

    static void checkDriver(int err, String call) {
        if (err != cudart.CUDA_SUCCESS) {
            BytePointer text = new BytePointer(); // out-parameter: the driver points it at a static string
            String msg = cudart.cuGetErrorString(err, text) == cudart.CUDA_SUCCESS && !text.isNull()
                    ? text.getString() : "error " + err;
            throw new EngineException("CUDA " + call + " failed: " + msg);
        }
    }

    static void checkCublas(int status, String call) {
        if (status != cublas.CUBLAS_STATUS_SUCCESS) {
            throw new EngineException("cuBLAS " + call + " failed: " + cublas(status));
        }
    }

    /** cuBLAS's name for {@code status}. */
    static String cublas(int status) {
        BytePointer text = cublas.cublasGetStatusString(status);
        return text == null ? "status " + status : text.getString();
    }

    static void checkNvrtc(int status, String call) {
        if (status != nvrtc.NVRTC_SUCCESS) {
            BytePointer text = nvrtc.nvrtcGetErrorString(status);
            throw new EngineException("NVRTC " + call + " failed: " + (text == null ? "status " + status
                    : text.getString()));
        }
    }
}
