package io.mtpspark.engine.device;

/**
 * The few device operations the device-resident forward needs, with CUDA's semantics: addresses are {@code long}s
 * with pointer arithmetic, work is queued on one stream in order, copies and launches are asynchronous, and errors
 * raised by queued work are sticky and surface (as an {@link io.mtpspark.engine.EngineException}) at the next
 * {@link #sync} or copy to the host. Two implementations: the GPU through Bytedeco ({@code cuda.CudaDevice}) and the
 * CPU emulator ({@link EmulatedDevice}), which runs the same kernel sources and checks what a GPU would not report.
 * One thread at a time.
 */
public interface DeviceApi extends AutoCloseable {

    /** What this device is, for logs and bench records. */
    String name();

    /** A device allocation of {@code bytes}; fails with the numbers when the device is out of memory. */
    long malloc(long bytes);

    void free(long address);

    /** Sets {@code bytes} bytes at {@code address} to {@code value} (queued). */
    void memset(long address, int value, long bytes);

    /** Page-locked host memory for asynchronous copies. */
    HostBuffer pinned(long bytes);

    /** Queues a copy of {@code bytes} from {@code src} (from {@code srcOffset}) to device {@code dst}. */
    void copyToDevice(long dst, HostBuffer src, long srcOffset, long bytes);

    /** Queues a copy from device {@code src} into {@code dst} at {@code dstOffset}; valid after {@link #sync}. */
    void copyToHost(HostBuffer dst, long dstOffset, long src, long bytes);

    /** Queues a device-to-device copy. */
    void copyOnDevice(long dst, long src, long bytes);

    /** The handle of kernel {@code entry} (one of {@code cuda.KernelSources.ALL}) for {@link #launch}. */
    int kernel(String entry);

    /** Queues {@code kernel} on a {@code gridX × gridY × gridZ} grid of 1-D blocks, no dynamic shared memory. */
    void launch(int kernel, int gridX, int gridY, int gridZ, int block, LaunchArgs args);

    /**
     * {@code cublasGemmEx} on the stream with {@code CUBLAS_COMPUTE_32F}: column-major {@code C = alpha·op(A)·op(B) +
     * beta·C} with op(A) {@code m × k}, op(B) {@code k × n}; A and B both F32 or both BF16, C F32 or BF16. Invalid
     * arguments (a leading dimension too small, an unsupported type mix) throw at once, as cuBLAS returns them.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, ElementType aType, int lda,
              long b, ElementType bType, int ldb, float beta, long c, ElementType cType, int ldc);

    /** A new event (for marking a point of the stream, e.g. the end of a step's results). */
    long newEvent();

    /** Marks the current end of the stream with {@code event}. */
    void recordEvent(long event);

    /** Waits until the work before the last {@link #recordEvent} of {@code event} is done; throws its error. */
    void awaitEvent(long event);

    /** Waits for everything queued; throws the sticky error of queued work, if any. */
    void sync();

    /** Starts recording this stream's launches, GEMMs and memsets into a graph instead of running them. */
    void beginCapture();

    /** Ends the capture and returns an executable graph. */
    long endCapture();

    /** Queues a captured graph: its commands with the argument values they were captured with. */
    void launchGraph(long graph);

    void destroyGraph(long graph);

    /** Free device memory in bytes, now. */
    long freeBytes();

    long totalBytes();

    @Override
    void close();
}
