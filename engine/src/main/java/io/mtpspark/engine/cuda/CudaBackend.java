package io.mtpspark.engine.cuda;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tensor.WeightTensor;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.logging.Logger;

/**
 * A {@link Backend} on one CUDA GPU through Bytedeco: weights live on the device, matmuls run as cuBLAS SGEMM, and
 * RMSNorm, SwiGLU and the softmax numerator run as NVRTC-compiled kernels ({@link KernelSources}). This first version
 * keeps the {@link Backend} contract over host {@code float[]}: every call copies its activations to the device
 * through pinned staging buffers and copies the result back, then waits for the stream. That is correct but not the
 * fast path; the device-resident forward (activations and KV cache on the GPU, the other kernels of
 * {@link KernelSources}) is the next step. {@code dot} and {@code axpy} stay on the host (SIMD), and
 * {@code parallelFor} (attention over the host KV cache) runs on a host thread pool. Not run on a GPU yet.
 *
 * <p><b>Small elementwise calls stay on the host.</b> A synchronous round trip (copy in, launch, copy out, wait) costs
 * tens of microseconds, more than RMSNorm of one 4096-wide row or the softmax numerator of one attention row on the
 * CPU, and the forward makes such calls per row and per head. So {@code rmsnorm}, {@code siluMul} and
 * {@code expShiftSum} go to their kernels only from {@code minDeviceElements} elements (default
 * {@value #DEFAULT_MIN_DEVICE_ELEMENTS}, or the system property {@code mtp.cuda.minDeviceElements}); the GPU tests
 * set it to 0 so every call exercises the kernels.
 *
 * <p><b>Weights.</b> Every distinct weight array or {@link WeightTensor} passed to {@link #matmul} or
 * {@link #rmsnorm} is uploaded once, in F32 (BF16/F16 tensors widened at upload), and cached by identity: the arrays must not change while this backend lives (call {@link #forget} after
 * changing one). An 8B model takes 32 GB of device memory this way; BF16 weights (half that, with
 * {@code cublasGemmEx}) are future work.
 *
 * <p><b>Matmul mapping.</b> The engine's {@code out[r][o] = x[r] · w[o]} is row-major with {@code w} as
 * {@code [outDim][inDim]}. cuBLAS is column-major, and a row-major {@code [a][b]} matrix is the column-major
 * {@code b × a} matrix, its transpose. So {@code out} (row-major {@code [rows][outDim]}) is the column-major
 * {@code outDim × rows} matrix {@code outᵀ = w · xᵀ}: with {@code w} read as column-major {@code inDim × outDim}
 * ({@code = wᵀ}, lda = inDim) and transposed back ({@code CUBLAS_OP_T}), and {@code x} read as column-major
 * {@code inDim × rows} ({@code = xᵀ}, ldb = inDim) untouched ({@code CUBLAS_OP_N}), the call is
 * {@code Sgemm(T, N, m = outDim, n = rows, k = inDim, w, inDim, x, inDim, out, outDim)} ({@link GemmShape}, checked
 * against a reference column-major GEMM in tests). The math mode stays
 * {@code CUBLAS_DEFAULT_MATH} (true FP32, no TF32), so logits track the CPU backends to float rounding.
 */
public final class CudaBackend implements Backend {
    private static final Logger LOG = Logger.getLogger(CudaBackend.class.getName());
    static final int THREADS = 256;
    /** Weights are uploaded through the pinned staging buffer in chunks of this many floats (16 MiB). */
    private static final int UPLOAD_CHUNK = 1 << 22;
    static final int DEFAULT_MIN_DEVICE_ELEMENTS = 1 << 16;

    private final GpuStatus gpu;
    private final CpuBackend host;
    private final int minDeviceElements;
    private final CUstream_st stream = new CUstream_st();
    private final cublasContext blas = new cublasContext();
    private KernelModule kernels;
    private boolean streamCreated;
    private boolean blasCreated;
    private Thread boundThread;
    private final int ordinal;
    /** Not this object's monitor: the pool's workers take that one in their callbacks. */
    private final Object poolLock = new Object();

    /** Device copies of weights, by host array identity: address and size in bytes (F32, or BF16 for matmuls). */
    private final Map<Object, long[]> weights = new IdentityHashMap<>();
    private final boolean bf16Weights;
    private long weightBytes;
    // device scratch for activations and pinned host staging, grown on demand and then reused
    private final DeviceBuffer dA = new DeviceBuffer();
    private final DeviceBuffer dB = new DeviceBuffer();
    private final DeviceBuffer dC = new DeviceBuffer();
    private final PinnedBuffer hIn = new PinnedBuffer();
    private final PinnedBuffer hIn2 = new PinnedBuffer();
    private final PinnedBuffer hOut = new PinnedBuffer();
    private final PinnedBuffer hSum = new PinnedBuffer();
    private final DeviceView va = new DeviceView();
    private final DeviceView vb = new DeviceView();
    private final DeviceView vc = new DeviceView();
    private final FloatPointer one = new FloatPointer(1f);
    private final FloatPointer zero = new FloatPointer(0f);
    private final KernelArgs args = new KernelArgs(16);

    private CudaBackend(GpuStatus gpu, int minDeviceElements, int ordinal, int hostThreads, boolean bf16Weights) {
        this.gpu = gpu;
        this.bf16Weights = bf16Weights;
        this.ordinal = ordinal;
        this.minDeviceElements = Math.max(0, minDeviceElements);
        this.host = new CpuBackend(hostThreads); // dot, axpy and small elementwise calls; parallelFor's threads
        try {
            bindThread();
            CudaErrors.checkRuntime(cudart.cudaStreamCreate(stream), "cudaStreamCreate");
            streamCreated = true;
            CudaErrors.checkCublas(cublas.cublasCreate_v2(blas), "cublasCreate");
            blasCreated = true;
            CudaErrors.checkCublas(cublas.cublasSetStream_v2(blas, stream), "cublasSetStream");
            CudaErrors.checkCublas(cublas.cublasSetMathMode(blas, cublas.CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
            long t0 = System.nanoTime();
            kernels = new KernelModule(gpu.computeArch());
            LOG.info(() -> String.format("CUDA backend on %s: %d kernels compiled with NVRTC in %d ms",
                    gpu.deviceName(), KernelSources.ALL.size(), (System.nanoTime() - t0) / 1_000_000));
        } catch (RuntimeException | LinkageError e) {
            close();
            throw e;
        }
    }

    /**
     * Opens the backend on device 0, or throws an {@link EngineException} naming why there is no usable GPU. Only
     * this call (and {@link GpuDetector}) loads CUDA classes; nothing else in the engine touches them unless asked
     * for CUDA.
     */
    public static CudaBackend open() {
        return open(Integer.getInteger("mtp.cuda.minDeviceElements", DEFAULT_MIN_DEVICE_ELEMENTS));
    }

    /** As {@link #open()}, with elementwise calls of at least {@code minDeviceElements} elements on the GPU. */
    public static CudaBackend open(int minDeviceElements) {
        return open(minDeviceElements, 0, Runtime.getRuntime().availableProcessors());
    }

    /**
     * On device {@code ordinal} (the GPU a scheduler assigned, e.g. Spark's task resources), with the default
     * elementwise threshold and {@code hostThreads} threads for the work that stays on the host (attention).
     */
    public static CudaBackend onDevice(int ordinal, int hostThreads) {
        return open(Integer.getInteger("mtp.cuda.minDeviceElements", DEFAULT_MIN_DEVICE_ELEMENTS), ordinal,
                hostThreads);
    }

    static CudaBackend open(int minDeviceElements, int ordinal, int hostThreads) {
        String format = System.getProperty("mtp.cuda.weights", "f32");
        if (!format.equals("f32") && !format.equals("bf16")) {
            throw new EngineException("-Dmtp.cuda.weights: expected f32 or bf16, got \"" + format + "\"");
        }
        return open(minDeviceElements, ordinal, hostThreads, format.equals("bf16"));
    }

    /** With matmul weights on the device in BF16 ({@code cublasGemmEx}) or F32 ({@code cublasSgemm}). */
    static CudaBackend open(int minDeviceElements, int ordinal, int hostThreads, boolean bf16Weights) {
        GpuStatus s = GpuDetector.detect();
        if (!s.available()) {
            throw new EngineException("no usable CUDA GPU: " + s.reason());
        }
        if (ordinal < 0 || ordinal >= s.deviceCount()) {
            throw new EngineException("GPU " + ordinal + " was asked for but the CUDA driver reports "
                    + s.deviceCount() + " device(s)");
        }
        return new CudaBackend(s, minDeviceElements, ordinal, Math.max(1, hostThreads), bf16Weights);
    }

    public GpuStatus gpu() {
        return gpu;
    }

    /** Bytes of weights resident on the device. */
    public synchronized long residentWeightBytes() {
        return weightBytes;
    }

    /** Number of distinct weight arrays resident on the device. */
    public synchronized int residentWeights() {
        return weights.size();
    }

    /** Drops a cached weight (after its host array changed); the next use uploads it again. */
    public synchronized void forget(float[] w) {
        long[] resident = weights.remove(w);
        if (resident != null) {
            sync();
            cudart.cudaFree(va.at(resident[0]));
            weightBytes -= resident[1];
        }
    }

    @Override
    public boolean holdsDeviceState() {
        return true;
    }

    @Override
    public String name() {
        return "cuda(" + (ordinal == 0 ? gpu.deviceName() : "device " + ordinal) + ", " + (bf16Weights
                ? "BF16 weights, cuBLAS GemmEx" : "cuBLAS SGEMM F32") + ", per-op copies, elementwise on GPU from "
                + minDeviceElements + " elements)";
    }

    @Override
    public synchronized void matmul(float[] out, float[] x, int rows, float[] w, int inDim, int outDim) {
        if ((long) inDim * outDim > w.length) {
            throw new IllegalArgumentException("weight of " + w.length + " floats for a " + outDim + "×" + inDim
                    + " matmul");
        }
        bindThread();
        gemm(out, x, rows, weight(w, w, bf16Weights), inDim, outDim);
    }

    /**
     * A model weight, cached on the device by the identity of its storage (a heap tensor by its array, so the
     * {@code float[]} and tensor forms share one upload). A BF16/F16 tensor is widened to F32 once, at upload.
     */
    @Override
    public synchronized void matmul(float[] out, float[] x, int rows, WeightTensor w) {
        bindThread();
        Object key = w.isHeapF32() ? w.heapFloats() : w;
        long[] cached = weights.get(key);
        long dw = cached != null ? cached[0]
                : weight(key, w.isHeapF32() ? w.heapFloats() : w.toFloatArray(), bf16Weights);
        gemm(out, x, rows, dw, w.cols(), w.rows());
    }

    private void gemm(float[] out, float[] x, int rows, long dw, int inDim, int outDim) {
        int xn = rows * inDim;
        int on = rows * outDim;
        toDevice(dA, hIn, x, 0, xn);
        dC.ensure(on);
        GemmShape g = GemmShape.forMatmul(rows, inDim, outDim);
        int opA = g.transA() ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N;
        int opB = g.transB() ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N;
        if (bf16Weights) {
            // cuBLAS multiplies BF16 by BF16 (accumulating in F32): the activations are rounded to BF16 on the device
            dB.ensure((xn + 1) / 2);
            toBf16Args(args.reset(), dA.address, dB.address, xn);
            kernels.launch("to_bf16", elementwiseGrid(xn), 1, THREADS, stream, args);
            CudaErrors.checkCublas(cublas.cublasGemmEx(blas, opA, opB, g.m(), g.n(), g.k(), one, va.at(dw),
                    cudart.CUDA_R_16BF, g.lda(), vb.at(dB.address), cudart.CUDA_R_16BF, g.ldb(), zero,
                    vc.at(dC.address), cudart.CUDA_R_32F, g.ldc(), cublas.CUBLAS_COMPUTE_32F,
                    cublas.CUBLAS_GEMM_DEFAULT), "cublasGemmEx(BF16)");
        } else {
            CudaErrors.checkCublas(cublas.cublasSgemm_v2(blas, opA, opB, g.m(), g.n(), g.k(), one, va.at(dw),
                    g.lda(), vb.at(dA.address), g.ldb(), zero, vc.at(dC.address), g.ldc()), "cublasSgemm");
        }
        fromDevice(hOut, dC, on);
        sync();
        hOut.floats.get(out, 0, on);
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return host.dot(a, aOff, b, bOff, n);
    }

    @Override
    public void axpy(float[] y, int yOff, float a, float[] x, int xOff, int n) {
        host.axpy(y, yOff, a, x, xOff, n);
    }

    @Override
    public void scoresByPosition(float[] out, int outOff, float[] q, int qOff, float[] kT, int d0, int stride,
                                 int hd, int n, float scale) {
        host.scoresByPosition(out, outOff, q, qOff, kT, d0, stride, hd, n, scale);
    }

    @Override
    public synchronized void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] w, int n, float eps) {
        if (n < minDeviceElements) {
            host.rmsnorm(out, outOff, x, xOff, w, n, eps);
            return;
        }
        bindThread();
        long dw = weight(w, w, false);
        toDevice(dA, hIn, x, xOff, n);
        dC.ensure(n);
        rmsnormArgs(args.reset(), dC.address, dA.address, dw, n, eps);
        kernels.launch("rmsnorm_rows", 1, 1, THREADS, stream, args);
        fromDevice(hOut, dC, n);
        sync();
        hOut.floats.get(out, outOff, n);
    }

    @Override
    public synchronized float expShiftSum(float[] a, int off, int n, float shift) {
        if (n <= 0 || n < minDeviceElements) {
            return host.expShiftSum(a, off, n, shift);
        }
        bindThread();
        toDevice(dA, hIn, a, off, n);
        dC.ensure(1);
        expShiftSumArgs(args.reset(), dA.address, n, shift, dC.address);
        kernels.launch("exp_shift_sum", 1, 1, THREADS, stream, args);
        fromDevice(hOut, dA, n);
        fromDevice(hSum, dC, 1);
        sync();
        hOut.floats.get(a, off, n);
        return hSum.floats.get(0);
    }

    @Override
    public synchronized void siluMul(float[] h, float[] g, int off, int n) {
        if (n <= 0 || n < minDeviceElements) {
            host.siluMul(h, g, off, n);
            return;
        }
        bindThread();
        toDevice(dA, hIn, h, off, n);
        toDevice(dB, hIn2, g, off, n);
        siluMulArgs(args.reset(), dA.address, dB.address, n);
        kernels.launch("silu_mul", elementwiseGrid(n), 1, THREADS, stream, args);
        fromDevice(hOut, dA, n);
        sync();
        hOut.floats.get(h, off, n);
    }

    // Argument lists of the three kernels this backend launches, in one place so tests run them in the emulator.

    /** {@code rmsnorm_rows(out, x, w, rows = 1, dim, eps)}; grid 1, block {@link #THREADS}. */
    static void rmsnormArgs(ArgSink a, long out, long x, long w, int n, float eps) {
        a.ptr(out);
        a.ptr(x);
        a.ptr(w);
        a.i32(1);
        a.i32(n);
        a.f32(eps);
    }

    /** {@code exp_shift_sum(a, n, shift, sum)}; grid 1, block {@link #THREADS}. */
    static void expShiftSumArgs(ArgSink a, long values, int n, float shift, long sum) {
        a.ptr(values);
        a.i32(n);
        a.f32(shift);
        a.ptr(sum);
    }

    /** {@code silu_mul(h, g, n)}; grid {@link #elementwiseGrid}, block {@link #THREADS}. */
    static void siluMulArgs(ArgSink a, long h, long g, int n) {
        a.ptr(h);
        a.ptr(g);
        a.i32(n);
    }

    /** {@code to_bf16(x, y, n)}; grid {@link #elementwiseGrid}, block {@link #THREADS}. */
    static void toBf16Args(ArgSink a, long x, long bf16Out, int n) {
        a.ptr(x);
        a.ptr(bf16Out);
        a.i32(n);
    }

    /** Blocks for a grid-stride elementwise kernel over n values. */
    static int elementwiseGrid(int n) {
        return Math.min((n + THREADS - 1) / THREADS, 65_535); // the kernels' grid-stride loops cover the rest
    }


    @Override
    public void parallelFor(int n, long workPerItem, RangeTask task) {
        // Tasks (attention) call back into this backend from the host pool's threads: dot and axpy are host SIMD,
        // and every method that touches the stream or the staging buffers is synchronized and binds the calling
        // thread to the device first, so those calls run one at a time, correctly, from any thread.
        synchronized (poolLock) { // tasks of two callers (Spark tasks sharing this GPU) take turns on the pool
            host.parallelFor(n, workPerItem, task);
        }
    }

    /**
     * The device copy of a weight, uploaded on first use through the pinned buffer in chunks; in BF16 each chunk goes
     * to device scratch as F32 and is rounded into the weight's memory there, so the host never holds a BF16 copy.
     */
    private long weight(Object key, float[] w, boolean bf16) {
        long[] cached = weights.get(key);
        if (cached != null) {
            return cached[0];
        }
        long bytes = (long) w.length * (bf16 ? 2 : Float.BYTES);
        Pointer p = new Pointer();
        CudaErrors.checkRuntime(cudart.cudaMalloc(p, bytes), "cudaMalloc(" + bytes / (1 << 20) + " MiB weight; "
                + weightBytes / (1 << 20) + " MiB already resident)");
        long address = p.address();
        weights.put(key, new long[]{address, bytes});
        weightBytes += bytes;
        int chunk = Math.min(w.length, UPLOAD_CHUNK);
        hIn.ensure(chunk);
        for (int off = 0; off < w.length; off += chunk) {
            int len = Math.min(chunk, w.length - off);
            sync(); // the staging buffer (and the F32 scratch) is about to be overwritten
            hIn.floats.put(w, off, len);
            if (bf16) {
                dB.ensure(len);
                CudaErrors.checkRuntime(cudart.cudaMemcpyAsync(vb.at(dB.address), hIn.floats,
                        (long) len * Float.BYTES, cudart.cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync(weight)");
                toBf16Args(args.reset(), dB.address, address + (long) off * 2, len);
                kernels.launch("to_bf16", elementwiseGrid(len), 1, THREADS, stream, args);
            } else {
                CudaErrors.checkRuntime(cudart.cudaMemcpyAsync(va.at(address + (long) off * Float.BYTES), hIn.floats,
                        (long) len * Float.BYTES, cudart.cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync(weight)");
            }
        }
        sync();
        return address;
    }

    private void toDevice(DeviceBuffer dst, PinnedBuffer staging, float[] src, int off, int n) {
        dst.ensure(n);
        staging.ensure(n);
        staging.floats.put(src, off, n);
        CudaErrors.checkRuntime(cudart.cudaMemcpyAsync(va.at(dst.address), staging.floats, (long) n * Float.BYTES,
                cudart.cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync(host to device)");
    }

    private void fromDevice(PinnedBuffer dst, DeviceBuffer src, int n) {
        dst.ensure(n);
        CudaErrors.checkRuntime(cudart.cudaMemcpyAsync(dst.floats, va.at(src.address), (long) n * Float.BYTES,
                cudart.cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync(device to host)");
    }

    private void sync() {
        CudaErrors.checkRuntime(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    }

    /**
     * Makes this backend's device's primary context current on the calling thread: the runtime API does that on its
     * own, but the driver-API launches do not, and a backend may be used from a different thread than the one that opened it.
     */
    private void bindThread() {
        Thread t = Thread.currentThread();
        if (t != boundThread) {
            CudaErrors.checkRuntime(cudart.cudaSetDevice(ordinal), "cudaSetDevice(" + ordinal + ")");
            boundThread = t;
        }
    }

    @Override
    public synchronized void close() {
        try {
            if (streamCreated) {
                cudart.cudaStreamSynchronize(stream);
            }
            for (long[] resident : weights.values()) {
                cudart.cudaFree(va.at(resident[0]));
            }
            weights.clear();
            weightBytes = 0;
            dA.free();
            dB.free();
            dC.free();
            hIn.free();
            hIn2.free();
            hOut.free();
            hSum.free();
            if (kernels != null) {
                kernels.close();
                kernels = null;
            }
            if (blasCreated) {
                cublas.cublasDestroy_v2(blas);
                blasCreated = false;
            }
            if (streamCreated) {
                cudart.cudaStreamDestroy(stream);
                streamCreated = false;
            }
        } finally {
            host.close();
        }
    }

    /** Device memory for activations: grown to the largest request, reused after that. */
    private final class DeviceBuffer {
        long address;
        long floats;

        void ensure(long n) {
            if (n <= floats) {
                return;
            }
            free();
            Pointer p = new Pointer();
            CudaErrors.checkRuntime(cudart.cudaMalloc(p, n * Float.BYTES), "cudaMalloc(scratch)");
            address = p.address();
            floats = n;
        }

        void free() {
            if (address != 0) {
                cudart.cudaFree(va.at(address)); // synchronises the device, so no queued work still uses it
                address = 0;
                floats = 0;
            }
        }
    }

    /** Page-locked host memory, so that copies are true DMA transfers; grown on demand, reused after that. */
    private static final class PinnedBuffer {
        Pointer raw;
        FloatPointer floats;
        long capacity;

        void ensure(long n) {
            if (n <= capacity) {
                return;
            }
            free();
            Pointer p = new Pointer();
            CudaErrors.checkRuntime(cudart.cudaMallocHost(p, n * Float.BYTES), "cudaMallocHost(staging)");
            raw = p;
            floats = new FloatPointer(p).capacity(n).limit(n);
            capacity = n;
        }

        void free() {
            if (raw != null) {
                cudart.cudaFreeHost(raw);
                raw = null;
                floats = null;
                capacity = 0;
            }
        }
    }
}
