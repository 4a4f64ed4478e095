package io.mtpspark.engine.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The machine's limits as this backend's threads see them, measured in the same process as the forward they judge:
 * streaming read bandwidth (a Vector API sum over a buffer far larger than the caches, split over the backend's
 * threads, copied 16 KB at a time into heap scratch, as JDK 19+ stages weights, so it runs on every JDK; and over a
 * 256 MiB heap array where the heap has room: the better of the two), the FMA
 * peak (independent FMA chains in registers on every thread) and the engine's own in-cache matmul (a block whose
 * weights sit in L2). A forward's roofline time is the larger of its weight bytes ÷ bandwidth and its FLOPs ÷ peak;
 * {@link #efficiency} is that over the measured time.
 *
 * @param readBytesPerSecond   best of several full passes over {@code bufferBytes}
 * @param fmaFlopsPerSecond    register-resident FMA throughput, 2 FLOPs per lane per FMA, all threads
 * @param matmulFlopsPerSecond the backend's matmul on an in-cache shape ({@value #MATMUL_ROWS} rows, weights
 *                             {@value #MATMUL_DIM}²), all threads
 */
public record Roofline(double readBytesPerSecond, double fmaFlopsPerSecond, double matmulFlopsPerSecond,
                       long bufferBytes, int threads) {
    static final int MATMUL_ROWS = 64;
    static final int MATMUL_DIM = 512;
    private static final long BUFFER_BYTES = 512L << 20;
    /** Floats staged per copy of the bandwidth pass: 16 KB, as a group of four 2048-wide BF16 weight rows. */
    private static final int STAGE_FLOATS = 4096;
    /** The heap pass's array: 256 MiB, eight times a 32 MB L3. */
    private static final int HEAP_PROBE_BYTES = 256 << 20;
    private static float[] heapProbe;

    /** Measures the three limits with {@code backend}'s threads (a {@link CpuBackend}; others report scalar peaks). */
    public static Roofline measure(Backend backend, int threads) {
        return measure(backend, threads, BUFFER_BYTES);
    }

    /** With a bandwidth buffer of {@code bufferBytes} (a multiple of 1 MiB, below 2 GiB; tests use a small one). */
    static Roofline measure(Backend backend, int threads, long bufferBytes) {
        if (!CpuBackend.vectorized()) {
            throw new IllegalStateException("the roofline needs the Vector API (--add-modules jdk.incubator.vector)");
        }
        // the peaks first: after the heap bandwidth pass's 256 MiB array (with transparent huge pages) the in-cache
        // matmul measured 18 GFLOP/s, before it 75-84
        double fma = fmaPeak(backend);
        double matmul = matmulPeak(backend);
        return new Roofline(bandwidth(backend, (int) bufferBytes), fma, matmul, bufferBytes, threads);
    }

    /** Roofline time ÷ measured time for a forward that reads {@code bytes} and computes {@code flops}. */
    public double efficiency(long bytes, double flops, double seconds, boolean againstMatmul) {
        double peak = againstMatmul ? matmulFlopsPerSecond : fmaFlopsPerSecond;
        return Math.max(bytes / readBytesPerSecond, flops / peak) / seconds;
    }

    /**
     * The better of two passes: the staged buffer pass (what mapped weights get) and, where the heap has room, a
     * pass over a heap array (what weights copied to the heap get, and the nearer of the two to the hardware: on the
     * 2-core AVX2 host the buffer pass read 24.6-29.8 GB/s, a C loop over the same memory 33-43; docs/BENCHMARKS.md,
     * issue 15).
     */
    private static double bandwidth(Backend backend, int bufferBytes) {
        return bestBandwidth(backend, bandwidthBuffer(bufferBytes), 6);
    }

    /** The better of {@code passes} over {@code buffer} and over the heap array where the heap has room for it. */
    private static double bestBandwidth(Backend backend, ByteBuffer buffer, int passes) {
        double b = bandwidth(backend, buffer, passes);
        float[] heap = heapProbe(Math.min(buffer.capacity(), HEAP_PROBE_BYTES));
        return heap == null ? b : Math.max(b, heapBandwidth(backend, heap, passes));
    }

    /**
     * The heap pass's array, made once per process (the quick passes around each forward reuse it), or null where
     * the heap has not four times its size free.
     */
    private static synchronized float[] heapProbe(int bytes) {
        if (heapProbe != null && heapProbe.length * Float.BYTES >= bytes) {
            return heapProbe;
        }
        Runtime rt = Runtime.getRuntime();
        if (rt.maxMemory() - (rt.totalMemory() - rt.freeMemory()) < 4L * bytes) {
            return null;
        }
        heapProbe = new float[bytes / Float.BYTES];
        Arrays.fill(heapProbe, 1f);
        return heapProbe;
    }

    private static double heapBandwidth(Backend backend, float[] a, int passes) {
        return bestPass(backend, a.length >> 18, passes,
                (c, chunk) -> VectorKernels.sumRange(a, c << 18, (c + 1) << 18));
    }

    /** One 1 MiB item's sum, given the calling thread's staging array. */
    private interface ItemSum {
        float sum(int item, float[] staging);
    }

    /**
     * The best read rate of {@code passes} passes over {@code items} 1 MiB items, split over the backend's threads;
     * the first pass warms up the JIT and is not counted.
     */
    private static double bestPass(Backend backend, int items, int passes, ItemSum item) {
        float[] sink = new float[items];
        ThreadLocal<float[]> staging = ThreadLocal.withInitial(() -> new float[STAGE_FLOATS]);
        double best = 0;
        for (int pass = 0; pass < passes; pass++) {
            long t0 = System.nanoTime();
            backend.parallelFor(items, 1 << 20, (from, to) -> {
                float[] chunk = staging.get();
                for (int c = from; c < to; c++) {
                    sink[c] = item.sum(c, chunk);
                }
            });
            long t = System.nanoTime() - t0;
            if (pass > 0) {
                best = Math.max(best, (double) items * (1 << 20) * 1e9 / t);
            }
        }
        blackhole(sink);
        return best;
    }

    /**
     * A buffer for {@link #quickBandwidth}: {@code bytes} (a multiple of 1 MiB, far larger than the caches) of
     * direct memory, every page touched so that no pass measures page faults.
     */
    public static ByteBuffer bandwidthBuffer(int bytes) {
        ByteBuffer b = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < bytes; i += 4096) {
            b.putFloat(i, 1f);
        }
        return b;
    }

    /**
     * The read bandwidth as {@link #measure} takes it, in three passes over {@code buffer} and over the heap array
     * where it was made (the better of the two): for pairing, see above.
     */
    public static double quickBandwidth(Backend backend, ByteBuffer buffer) {
        return bestBandwidth(backend, buffer, 3);
    }

    /** The default bandwidth buffer's size. */
    public static int defaultBufferBytes() {
        return (int) BUFFER_BYTES;
    }

    private static double bandwidth(Backend backend, ByteBuffer b, int passes) {
        FloatBuffer floats = b.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        return bestPass(backend, b.capacity() >> 20, passes,
                (c, chunk) -> VectorKernels.sumFloats(floats, c << 18, (c + 1) << 18, chunk));
    }

    private static double fmaPeak(Backend backend) {
        return fmaPeak(backend, 6, 1 << 18);
    }

    /**
     * The FMA peak as {@link #measure} takes it, in a few milliseconds: for pairing with a forward measured just
     * before or after it (and so the bandwidth, {@link #quickBandwidth}). On a shared host the cores' speed moves by tens of percent within seconds (neighbours on
     * the sibling hyperthreads, the clock), so a forward judged against a peak measured minutes apart can read 50% or
     * 90% of it in the same sitting; against peaks taken around it, the ratio holds.
     */
    public static double quickFmaPeak(Backend backend) {
        return fmaPeak(backend, 3, 1 << 16);
    }

    private static double fmaPeak(Backend backend, int passes, long iterations) {
        int items = 64;
        float[] sink = new float[items];
        double best = 0;
        for (int pass = 0; pass < passes; pass++) {
            long t0 = System.nanoTime();
            backend.parallelFor(items, 1L << 40, (from, to) -> {
                for (int i = from; i < to; i++) {
                    sink[i] = VectorKernels.fmaChains(iterations, i);
                }
            });
            long t = System.nanoTime() - t0;
            if (pass > 0) {
                best = Math.max(best, items * iterations * 8.0 * VectorKernels.lanes() * 2 * 1e9 / t);
            }
        }
        blackhole(sink);
        return best;
    }

    private static double matmulPeak(Backend backend) {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(1);
        float[] w = new float[MATMUL_DIM * MATMUL_DIM];
        float[] x = new float[MATMUL_ROWS * MATMUL_DIM];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rng.nextDouble();
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextDouble();
        }
        WeightTensor wt = WeightTensor.ofFloats(w, MATMUL_DIM, MATMUL_DIM);
        float[] out = new float[MATMUL_ROWS * MATMUL_DIM];
        double flops = 2.0 * MATMUL_ROWS * MATMUL_DIM * MATMUL_DIM;
        double best = 0;
        for (int pass = 0; pass < 8; pass++) {
            int reps = 20;
            long t0 = System.nanoTime();
            for (int r = 0; r < reps; r++) {
                backend.matmul(out, x, MATMUL_ROWS, wt);
            }
            long t = System.nanoTime() - t0;
            if (pass > 1) {
                best = Math.max(best, reps * flops * 1e9 / t);
            }
        }
        blackhole(out);
        return best;
    }

    private static void blackhole(float[] v) {
        float s = 0;
        for (float f : v) {
            s += f;
        }
        if (s == 42.4242f) {
            System.err.print(""); // keeps the sums observable
        }
    }
}
