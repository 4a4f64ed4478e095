package io.mtpspark.engine.cuda;

import io.mtpspark.engine.EngineException;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every kernel of {@link KernelSources}, compiled with NVRTC to PTX for the device's compute capability and loaded
 * with the driver API ({@code cuModuleLoadData}, {@code cuModuleGetFunction}), then launched with
 * {@code cuLaunchKernel} on a caller's stream. Only CUDA 13.0 entry points are used. Compile errors surface as an
 * {@link EngineException} carrying NVRTC's log. Not run on a GPU yet.
 */
final class KernelModule implements AutoCloseable {
    private final List<CUmod_st> modules = new ArrayList<>();
    private final Map<String, CUfunc_st> functions = new HashMap<>();
    private final List<CUfunc_st> byHandle = new ArrayList<>();
    private final Map<String, Integer> handles = new HashMap<>();

    /** Compiles and loads every kernel; the device's primary context must be current on this thread. */
    KernelModule(String computeArch) {
        String header = KernelSources.read(KernelSources.HEADER);
        try {
            for (KernelSources.Kernel k : KernelSources.ALL) {
                byte[] ptx = compile(k.file(), KernelSources.read(k.file()), header, computeArch);
                CUmod_st module = new CUmod_st();
                CudaErrors.checkDriver(cudart.cuModuleLoadData(module, new BytePointer(ptx)),
                        "cuModuleLoadData(" + k.file() + ")");
                modules.add(module);
                CUfunc_st fn = new CUfunc_st();
                CudaErrors.checkDriver(cudart.cuModuleGetFunction(fn, module, k.entry()),
                        "cuModuleGetFunction(" + k.entry() + ")");
                functions.put(k.entry(), fn);
                handles.put(k.entry(), byHandle.size());
                byHandle.add(fn);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** NVRTC: source to NUL-terminated PTX; the error carries the compiler log. */
    static byte[] compile(String file, String source, String header, String computeArch) {
        _nvrtcProgram prog = new _nvrtcProgram();
        CudaErrors.checkNvrtc(nvrtc.nvrtcCreateProgram(prog, new BytePointer(source), new BytePointer(file), 1,
                new PointerPointer<>(header), new PointerPointer<>(KernelSources.HEADER)), "create " + file);
        try {
            // no --use_fast_math: expf/sqrtf stay within a few ulp so results track the CPU backends
            PointerPointer<?> options = new PointerPointer<>("--gpu-architecture=" + computeArch);
            int status = nvrtc.nvrtcCompileProgram(prog, 1, options);
            if (status != nvrtc.NVRTC_SUCCESS) {
                throw new EngineException("NVRTC could not compile CUDA kernel " + file + ": " + log(prog));
            }
            SizeTPointer size = new SizeTPointer(1);
            CudaErrors.checkNvrtc(nvrtc.nvrtcGetPTXSize(prog, size), "PTX size of " + file);
            byte[] ptx = new byte[(int) size.get()];
            CudaErrors.checkNvrtc(nvrtc.nvrtcGetPTX(prog, ptx), "PTX of " + file);
            return ptx;
        } finally {
            nvrtc.nvrtcDestroyProgram(prog);
        }
    }

    private static String log(_nvrtcProgram prog) {
        SizeTPointer size = new SizeTPointer(1);
        if (nvrtc.nvrtcGetProgramLogSize(prog, size) != nvrtc.NVRTC_SUCCESS || size.get() <= 1) {
            return "(no log)";
        }
        byte[] log = new byte[(int) size.get()];
        nvrtc.nvrtcGetProgramLog(prog, log);
        return new String(log, 0, log.length - 1, StandardCharsets.UTF_8).strip();
    }

    /** Launches {@code entry} on a {@code gridX × gridY} grid of 1-D blocks with no dynamic shared memory. */
    void launch(String entry, int gridX, int gridY, int block, CUstream_st stream, KernelArgs args) {
        CUfunc_st fn = functions.get(entry);
        if (fn == null) {
            throw new IllegalArgumentException("no CUDA kernel " + entry);
        }
        int err = cudart.cuLaunchKernel(fn, gridX, gridY, 1, block, 1, 1, 0, stream, args.params(),
                (PointerPointer<?>) null);
        if (err != cudart.CUDA_SUCCESS) { // the message is built only on failure: launches allocate nothing
            CudaErrors.checkDriver(err, "cuLaunchKernel(" + entry + ")");
        }
    }

    /** The handle of {@code entry} for {@link #launch(int, int, int, int, int, CUstream_st, KernelArgs)}. */
    int handle(String entry) {
        Integer h = handles.get(entry);
        if (h == null) {
            throw new IllegalArgumentException("no CUDA kernel " + entry);
        }
        return h;
    }

    /** Launches kernel {@code handle} on a 3-D grid of 1-D blocks with no dynamic shared memory. */
    void launch(int handle, int gridX, int gridY, int gridZ, int block, CUstream_st stream, KernelArgs args) {
        int err = cudart.cuLaunchKernel(byHandle.get(handle), gridX, gridY, gridZ, block, 1, 1, 0, stream,
                args.params(), (PointerPointer<?>) null);
        if (err != cudart.CUDA_SUCCESS) {
            CudaErrors.checkDriver(err, "cuLaunchKernel(handle " + handle + ")");
        }
    }

    @Override
    public void close() {
        for (CUmod_st m : modules) {
            cudart.cuModuleUnload(m);
        }
        modules.clear();
        functions.clear();
        byHandle.clear();
        handles.clear();
    }
}
