package io.mtpspark.engine.cuda;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.device.DeviceApi;
import io.mtpspark.engine.device.DeviceMemoryPlan;
import io.mtpspark.engine.device.ElementType;
import io.mtpspark.engine.device.HostBuffer;
import io.mtpspark.engine.device.LaunchArgs;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@link DeviceApi} on one CUDA GPU through Bytedeco, CUDA 13.0 API surface only: cudart for memory, streams,
 * events and graphs, NVRTC-compiled kernels launched with {@code cuLaunchKernel} ({@link KernelModule}), cuBLAS
 * {@code cublasGemmEx} with {@code CUBLAS_COMPUTE_32F} and a fixed workspace set before any capture, or (the
 * default) cuBLASLt with one algorithm pinned per weight shape and no split-K ({@link PinnedGemm},
 * {@code -Dmtp.cuda.gemm=pinned|default}). Capture is thread-local ({@code cudaStreamCaptureModeThreadLocal}), since Spark and JavaCPP run threads of their own; every
 * copy passes the stream. Not run on a GPU yet: the emulator ({@code device.EmulatedDevice}) runs the same calls.
 */
public final class CudaDevice implements DeviceApi {
    private final GpuStatus gpu;
    private final int ordinal;
    private final CUstream_st stream = new CUstream_st();
    private final cublasContext blas = new cublasContext();
    private final KernelModule kernels;
    private final KernelArgs cells = new KernelArgs(16);
    private final DeviceView va = new DeviceView();
    private final DeviceView vb = new DeviceView();
    private final DeviceView vc = new DeviceView();
    private final FloatPointer alpha = new FloatPointer(1);
    private final FloatPointer beta = new FloatPointer(1);
    private final long workspace;
    /** Null with {@code -Dmtp.cuda.gemm=default}: cuBLAS chooses per call (row independence not guaranteed). */
    private final PinnedGemm pinned;
    private final List<CUevent_st> events = new ArrayList<>();
    private final Map<Long, CUgraph_st> graphs = new HashMap<>();
    private final Map<Long, CUgraphExec_st> execs = new HashMap<>();
    private long nextGraph = 1;
    private Thread boundThread;

    private CudaDevice(GpuStatus gpu, int ordinal) {
        this.gpu = gpu;
        this.ordinal = ordinal;
        bind();
        CudaErrors.checkRuntime(cudart.cudaStreamCreate(stream), "cudaStreamCreate");
        CudaErrors.checkCublas(cublas.cublasCreate_v2(blas), "cublasCreate");
        CudaErrors.checkCublas(cublas.cublasSetStream_v2(blas, stream), "cublasSetStream");
        CudaErrors.checkCublas(cublas.cublasSetMathMode(blas, cublas.CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
        workspace = malloc(DeviceMemoryPlan.WORKSPACE_BYTES);
        CudaErrors.checkCublas(cublas.cublasSetWorkspace_v2(blas, va.at(workspace), DeviceMemoryPlan.WORKSPACE_BYTES),
                "cublasSetWorkspace");
        kernels = new KernelModule(gpu.computeArch());
        String gemm = System.getProperty("mtp.cuda.gemm", "pinned");
        if (!gemm.equals("pinned") && !gemm.equals("default")) {
            throw new EngineException("-Dmtp.cuda.gemm=" + gemm + ": expected pinned (one cuBLASLt algorithm per"
                    + " weight shape, no split-K) or default (cublasGemmEx's own choice)");
        }
        pinned = gemm.equals("pinned") ? new PinnedGemm(stream, workspace, DeviceMemoryPlan.WORKSPACE_BYTES) : null;
    }

    /** Opens GPU {@code ordinal}, or throws an {@link EngineException} naming why there is no usable GPU. */
    public static CudaDevice open(int ordinal) {
        GpuStatus s = GpuDetector.detect();
        if (!s.available()) {
            throw new EngineException("no usable CUDA GPU: " + s.reason());
        }
        if (ordinal < 0 || ordinal >= s.deviceCount()) {
            throw new EngineException("GPU " + ordinal + " was asked for but the CUDA driver reports "
                    + s.deviceCount() + " device(s)");
        }
        return new CudaDevice(s, ordinal);
    }

    /** The driver-API launches need the device's primary context current on the calling thread. */
    private void bind() {
        Thread t = Thread.currentThread();
        if (t != boundThread) {
            CudaErrors.checkRuntime(cudart.cudaSetDevice(ordinal), "cudaSetDevice(" + ordinal + ")");
            boundThread = t;
        }
    }

    @Override
    public String name() {
        return "cuda(" + gpu.deviceName() + (ordinal == 0 ? "" : ", device " + ordinal) + ")";
    }

    @Override
    public long malloc(long bytes) {
        bind();
        Pointer p = new Pointer();
        int err = cudart.cudaMalloc(p, bytes);
        if (err != cudart.cudaSuccess) {
            throw new EngineException("device out of memory: cudaMalloc of " + bytes + " bytes failed ("
                    + CudaErrors.runtime(err) + "; " + freeBytes() + " of " + totalBytes() + " free)");
        }
        return p.address();
    }

    @Override
    public void free(long address) {
        bind();
        CudaErrors.checkRuntime(cudart.cudaFree(va.at(address)), "cudaFree");
    }

    @Override
    public void memset(long address, int value, long bytes) {
        CudaErrors.checkRuntime(cudart.cudaMemsetAsync(va.at(address), value, bytes, stream), "cudaMemsetAsync");
    }

    @Override
    public HostBuffer pinned(long bytes) {
        bind();
        Pointer p = new Pointer();
        CudaErrors.checkRuntime(cudart.cudaMallocHost(p, bytes), "cudaMallocHost(" + bytes + ")");
        BytePointer b = new BytePointer(p).capacity(bytes).limit(bytes);
        return new HostBuffer(b.asByteBuffer(), p.address(), () -> cudart.cudaFreeHost(p));
    }

    @Override
    public void copyToDevice(long dst, HostBuffer src, long srcOffset, long bytes) {
        CudaErrors.checkRuntime(cudart.cudaMemcpyAsync(va.at(dst), vb.at(src.address() + srcOffset), bytes,
                cudart.cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync(host to device)");
    }

    @Override
    public void copyToHost(HostBuffer dst, long dstOffset, long src, long bytes) {
        CudaErrors.checkRuntime(cudart.cudaMemcpyAsync(va.at(dst.address() + dstOffset), vb.at(src), bytes,
                cudart.cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync(device to host)");
    }

    @Override
    public void copyOnDevice(long dst, long src, long bytes) {
        CudaErrors.checkRuntime(cudart.cudaMemcpyAsync(va.at(dst), vb.at(src), bytes,
                cudart.cudaMemcpyDeviceToDevice, stream), "cudaMemcpyAsync(device to device)");
    }

    @Override
    public int kernel(String entry) {
        return kernels.handle(entry);
    }

    @Override
    public void launch(int kernel, int gridX, int gridY, int gridZ, int block, LaunchArgs args) {
        bind();
        cells.reset();
        for (int i = 0; i < args.count(); i++) {
            long v = args.value(i);
            switch (args.type(i)) {
                case LaunchArgs.POINTER -> cells.ptr(v);
                case LaunchArgs.INT -> cells.i32((int) v);
                case LaunchArgs.FLOAT -> cells.f32(Float.intBitsToFloat((int) v));
                default -> cells.i64(v);
            }
        }
        kernels.launch(kernel, gridX, gridY, gridZ, block, stream, cells);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alphaValue, long a,
                     ElementType aType, int lda, long b, ElementType bType, int ldb, float betaValue, long c,
                     ElementType cType, int ldc) {
        bind();
        if (pinned != null) {
            pinned.gemm(transA, transB, m, n, k, alphaValue, a, aType, lda, b, bType, ldb, betaValue, c, cType, ldc);
            return;
        }
        alpha.put(alphaValue);
        beta.put(betaValue);
        int status = cublas.cublasGemmEx(blas, transA ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N,
                transB ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N, m, n, k, alpha, va.at(a), type(aType), lda,
                vb.at(b), type(bType), ldb, beta, vc.at(c), type(cType), ldc, cublas.CUBLAS_COMPUTE_32F,
                cublas.CUBLAS_GEMM_DEFAULT);
        if (status != cublas.CUBLAS_STATUS_SUCCESS) {
            CudaErrors.checkCublas(status, "cublasGemmEx(m " + m + ", n " + n + ", k " + k + ", lda " + lda
                    + ", ldb " + ldb + ", ldc " + ldc + ")");
        }
    }

    private static int type(ElementType t) {
        return t == ElementType.BF16 ? cudart.CUDA_R_16BF : cudart.CUDA_R_32F;
    }

    @Override
    public long newEvent() {
        CUevent_st e = new CUevent_st();
        CudaErrors.checkRuntime(cudart.cudaEventCreateWithFlags(e, cudart.cudaEventDisableTiming),
                "cudaEventCreateWithFlags");
        events.add(e);
        return events.size() - 1;
    }

    @Override
    public void recordEvent(long event) {
        CudaErrors.checkRuntime(cudart.cudaEventRecord(events.get((int) event), stream), "cudaEventRecord");
    }

    @Override
    public void awaitEvent(long event) {
        CudaErrors.checkRuntime(cudart.cudaEventSynchronize(events.get((int) event)), "cudaEventSynchronize");
    }

    @Override
    public void sync() {
        bind();
        CudaErrors.checkRuntime(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    }

    @Override
    public void beginCapture() {
        bind();
        CudaErrors.checkRuntime(cudart.cudaStreamBeginCapture(stream, cudart.cudaStreamCaptureModeThreadLocal),
                "cudaStreamBeginCapture");
    }

    @Override
    public long endCapture() {
        CUgraph_st g = new CUgraph_st();
        CudaErrors.checkRuntime(cudart.cudaStreamEndCapture(stream, g), "cudaStreamEndCapture");
        CUgraphExec_st e = new CUgraphExec_st();
        CudaErrors.checkRuntime(cudart.cudaGraphInstantiate(e, g, 0L), "cudaGraphInstantiate");
        long id = nextGraph++;
        graphs.put(id, g);
        execs.put(id, e);
        return id;
    }

    @Override
    public void launchGraph(long graph) {
        CudaErrors.checkRuntime(cudart.cudaGraphLaunch(execs.get(graph), stream), "cudaGraphLaunch");
    }

    @Override
    public void destroyGraph(long graph) {
        CUgraphExec_st e = execs.remove(graph);
        CUgraph_st g = graphs.remove(graph);
        if (e != null) {
            cudart.cudaGraphExecDestroy(e);
            cudart.cudaGraphDestroy(g);
        }
    }

    @Override
    public long freeBytes() {
        return memInfo()[0];
    }

    @Override
    public long totalBytes() {
        return memInfo()[1];
    }

    private long[] memInfo() {
        bind();
        SizeTPointer free = new SizeTPointer(1);
        SizeTPointer total = new SizeTPointer(1);
        CudaErrors.checkRuntime(cudart.cudaMemGetInfo(free, total), "cudaMemGetInfo");
        return new long[]{free.get(), total.get()};
    }

    @Override
    public void close() {
        bind();
        cudart.cudaStreamSynchronize(stream);
        for (long id : new ArrayList<>(execs.keySet())) {
            destroyGraph(id);
        }
        for (CUevent_st e : events) {
            cudart.cudaEventDestroy(e);
        }
        kernels.close();
        if (pinned != null) {
            pinned.close();
        }
        cudart.cudaFree(va.at(workspace));
        cublas.cublasDestroy_v2(blas);
        cudart.cudaStreamDestroy(stream);
    }
}
