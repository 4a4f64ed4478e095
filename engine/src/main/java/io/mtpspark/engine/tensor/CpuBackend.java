package io.mtpspark.engine.tensor;

import io.mtpspark.engine.safetensors.DType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.logging.Logger;

/**
 * The fast CPU backend: SIMD inner loops through the JDK Vector API and large matmuls split over output rows across
 * a worker pool. Matmuls run in register tiles (up to four input rows by four weight rows, each weight vector loaded
 * once per tile, the tile's weight rows kept in cache while every input row passes), so a block of rows reads the
 * weights from memory once. Buffer-backed (mapped, BF16/F16) weights are read in place for few rows on JDK 17, and
 * otherwise copied four rows at a time into heap scratch and read with the Vector API's array loads (JDK 19+ has no
 * buffer loads); BF16/F16 weights are widened in registers for few rows and into panels for many, and
 * blocks of many rows over long weight rows run in blocks of the row length so that the weights stay in L1.
 * Small kernels stay on the calling thread, since a dispatch costs more than a 64-wide dot product. Without the
 * {@code jdk.incubator.vector} module it falls back to scalar loops and says so loudly at start-up.
 */
public final class CpuBackend implements Backend {
    private static final Logger LOG = Logger.getLogger(CpuBackend.class.getName());
    /** Below this many multiply-adds a kernel runs on the calling thread. */
    private static final long PARALLEL_THRESHOLD = 1L << 17;
    private static final boolean VECTOR = vectorApiAvailable();
    /**
     * Whether this JDK's Vector API reads vectors from a {@link ByteBuffer} (JDK 17 and 18; JDK 19 moved those loads
     * to memory segments). With them, the register tiles of few-row matmuls read buffer-backed weights in place;
     * without, from rows staged into heap scratch (the same sums, ~10% slower at one row on JDK 17).
     */
    private static final boolean BUFFER_VECTOR = VECTOR && bufferKernelsAvailable();
    private static volatile boolean warned;

    private final WorkerPool pool;
    private final boolean bufferVector;
    private final float[][] matmulArgs = new float[3][];
    private int mmRows;
    private int mmIn;
    private int mmOut;
    private final RangeTask matmulTask = (from, to) -> matmulRange(matmulArgs[0], matmulArgs[1], matmulArgs[2],
            mmRows, mmIn, mmOut, from, to);
    private WeightTensor mmTensor;
    private final RangeTask tensorMatmulTask = (from, to) -> tensorMatmulRange(mmTensor, matmulArgs[0],
            matmulArgs[1], mmRows, mmIn, mmOut, from, to);
    /** The arguments of {@link #fusedRange} while {@link #matmuls} runs it (ends: prefix sums of the outputs). */
    private float[][] fusedOuts;
    private WeightTensor[] fusedWeights;
    private float[] fusedX;
    private int[] fusedEnds = new int[4];
    private final RangeTask fusedTask = this::fusedRange;
    /** Per thread, reused across calls (see {@link Scratch}). */
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);
    /** Per thread, one vector of scratch for a half head in {@link VectorKernels#weightedValues}. */
    private final ThreadLocal<float[]> lanes = ThreadLocal.withInitial(() -> new float[2 * Math.max(1, HALF_LANES)]);
    /** Whole tiles of a blocked matmul's input rows, packed (see {@link VectorKernels}); shared by the workers. */
    private float[] xTiles = new float[0];
    /** The inputs of a 16-bit matmul in pair order (see {@link VectorKernels#pairOrder}). */
    private float[] pairScratch = new float[0];
    /** The arguments of {@link #prepareRange} while {@link #prepared} runs it. */
    private float[] prepX;
    private int prepRows;
    private int prepIn;
    private boolean prepPair;
    private boolean prepPack;
    private final RangeTask prepareTask = this::prepareRange;
    /** From this many input elements, {@link #prepared} splits its work over the threads. */
    private static final long PREPARE_PARALLEL_ELEMENTS = 1L << 15;

    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    public CpuBackend(int threads) {
        this(threads, BUFFER_VECTOR);
        if (!VECTOR && !warned) {
            warned = true;
            LOG.warning("JDK Vector API unavailable: start the JVM with --add-modules jdk.incubator.vector; "
                    + "the CPU backend runs on scalar loops and is several times slower");
        }
    }

    /** With the in-place buffer kernels on or off ({@code false}: what JDK 19+ runs; tests compare the two). */
    CpuBackend(int threads, boolean bufferVector) {
        this.pool = new WorkerPool(Math.max(1, threads));
        this.bufferVector = bufferVector && BUFFER_VECTOR;
    }

    private static boolean bufferKernelsAvailable() {
        try {
            int l = VectorKernels.lanes();
            ByteBuffer probe = ByteBuffer.allocate(16 * l).order(ByteOrder.LITTLE_ENDIAN);
            float[] x = new float[2 * l];
            VectorKernels.tile1x4(x, 0, probe, DType.BF16, 0, 2 * l, 4 * l, 6 * l, 2 * l, new float[4], 0,
                    new float[4 * l]);
            VectorKernels.tile1x4(x, 0, probe, DType.F32, 0, l, 2 * l, 3 * l, l, new float[4], 0, new float[4 * l]);
            return true;
        } catch (LinkageError e) {
            return false;
        }
    }

    /** Whether SIMD kernels are active (the fast path). */
    public static boolean vectorized() {
        return VECTOR;
    }

    static boolean vectorApiAvailable() {
        if (!SimdWidth.vectorModulePresent()) {
            return false;
        }
        try {
            return VectorKernels.lanes() > 1;
        } catch (LinkageError e) {
            return false;
        }
    }

    public int threads() {
        return pool.threads();
    }

    @Override
    public String name() {
        return "cpu(" + pool.threads() + " threads, " + (VECTOR ? "SIMD " + VectorKernels.lanes() + " lanes" : "scalar")
                + ")";
    }

    @Override
    public void matmul(float[] out, float[] x, int rows, float[] w, int inDim, int outDim) {
        matmulArgs[0] = out;
        matmulArgs[1] = x;
        matmulArgs[2] = w;
        mmRows = rows;
        mmIn = inDim;
        mmOut = outDim;
        prepared(x, rows, inDim, false, blockedHeap(rows, inDim));
        if ((long) rows * inDim * outDim < PARALLEL_THRESHOLD || pool.threads() == 1) {
            matmulTask.run(0, outDim);
        } else {
            pool.run(outDim, 4, matmulTask);
        }
        matmulArgs[0] = matmulArgs[1] = matmulArgs[2] = null;
    }

    @Override
    public void matmul(float[] out, float[] x, int rows, WeightTensor w) {
        if (w.isHeapF32()) {
            matmul(out, x, rows, w.heapFloats(), w.cols(), w.rows());
            return;
        }
        matmulArgs[0] = out;
        mmTensor = w;
        mmRows = rows;
        mmIn = w.cols();
        mmOut = w.rows();
        matmulArgs[1] = preparedFor(w, x, rows);
        if ((long) rows * mmIn * mmOut < PARALLEL_THRESHOLD || pool.threads() == 1) {
            tensorMatmulTask.run(0, mmOut);
        } else {
            pool.run(mmOut, 4, tensorMatmulTask);
        }
        matmulArgs[0] = matmulArgs[1] = null;
        mmTensor = null;
    }

    /**
     * One preparation of the inputs ({@link #prepared}) and one pass over the threads for all of {@code ws}, when
     * they take it the same way (all heap F32, or all buffer-backed of one dtype, and
     * one input width); else one call each. Each output is summed as {@link #matmul} sums it: same kernels, same
     * order. On the dim-2048 BF16 model this saves three of a layer's seven preparations and dispatches.
     */
    @Override
    public void matmuls(float[][] outs, float[] x, int rows, WeightTensor[] ws) {
        if (!fusable(ws)) {
            Backend.super.matmuls(outs, x, rows, ws);
            return;
        }
        int in = ws[0].cols();
        fusedX = preparedFor(ws[0], x, rows);
        if (fusedEnds.length < ws.length) {
            fusedEnds = new int[ws.length];
        }
        int total = 0;
        for (int i = 0; i < ws.length; i++) {
            total += ws[i].rows();
            fusedEnds[i] = total;
        }
        fusedOuts = outs;
        fusedWeights = ws;
        mmRows = rows;
        mmIn = in;
        if ((long) rows * in * total < PARALLEL_THRESHOLD || pool.threads() == 1) {
            fusedRange(0, total);
        } else {
            pool.run(total, 4, fusedTask);
        }
        fusedOuts = null;
        fusedWeights = null;
        fusedX = null;
    }

    /** The inputs prepared as the kernels for weights of {@code w}'s kind and width read them (see below). */
    private float[] preparedFor(WeightTensor w, float[] x, int rows) {
        int in = w.cols();
        return w.isHeapF32() ? prepared(x, rows, in, false, blockedHeap(rows, in))
                : prepared(x, rows, in, VECTOR && w.dtype() != DType.F32, VECTOR && !direct(rows, w.dtype()));
    }

    private static boolean fusable(WeightTensor[] ws) {
        if (ws.length < 2) {
            return false;
        }
        WeightTensor a = ws[0];
        for (WeightTensor w : ws) {
            boolean sameKind = w.isHeapF32() == a.isHeapF32()
                    && (a.isHeapF32() || w.dtype() == a.dtype()); // one dtype: the inputs are prepared for it
            if (!sameKind || w.cols() != a.cols()) {
                return false;
            }
        }
        return true;
    }

    /** Outputs [from, to) of the weights of {@link #matmuls} laid end to end. */
    private void fusedRange(int from, int to) {
        int start = 0;
        for (int i = 0; i < fusedWeights.length && start < to; i++) {
            int end = fusedEnds[i];
            int a = Math.max(from, start) - start;
            int b = Math.min(to, end) - start;
            if (a < b) {
                WeightTensor w = fusedWeights[i];
                if (w.isHeapF32()) {
                    matmulRange(fusedOuts[i], fusedX, w.heapFloats(), mmRows, mmIn, end - start, a, b);
                } else {
                    tensorMatmulRange(w, fusedOuts[i], fusedX, mmRows, mmIn, end - start, a, b);
                }
            }
            start = end;
        }
    }

    /**
     * The inputs as the kernels read them: with {@code pair}, the rows of {@code x} in pair order (the order the
     * 16-bit kernels sum in) in this backend's scratch, which is returned, else {@code x}; with {@code pack}, their
     * whole tiles also packed into {@link #xTiles} for {@link #blocked}. Many rows are prepared on all threads, a
     * tile of rows each: done on the calling thread alone, it left the other threads waiting for ~5% of an 81-row
     * block (docs/BENCHMARKS.md, issue 15).
     */
    private float[] prepared(float[] x, int rows, int in, boolean pair, boolean pack) {
        if (!pair && !pack) {
            return x;
        }
        if (pair && pairScratch.length < rows * in) {
            pairScratch = new float[rows * in];
        }
        int tiled = rows - rows % TILE_ROWS;
        if (pack && xTiles.length < tiled * in) {
            xTiles = new float[tiled * in];
        }
        prepX = x;
        prepRows = rows;
        prepIn = in;
        prepPair = pair;
        prepPack = pack;
        int units = (rows + TILE_ROWS - 1) / TILE_ROWS;
        if ((long) rows * in < PREPARE_PARALLEL_ELEMENTS || pool.threads() == 1 || units < 2) {
            prepareRange(0, units);
        } else {
            pool.run(units, prepareTask);
        }
        prepX = null;
        return pair ? pairScratch : x;
    }

    /** {@link #prepared} for the tiles [from, to) of rows (the rows after the whole tiles: the last unit). */
    private void prepareRange(int from, int to) {
        int in = prepIn;
        int tiled = prepRows - prepRows % TILE_ROWS;
        float[] src = prepPair ? pairScratch : prepX;
        for (int t = from; t < to; t++) {
            int r0 = t * TILE_ROWS;
            int r1 = Math.min(prepRows, r0 + TILE_ROWS);
            if (prepPair) {
                for (int r = r0; r < r1; r++) {
                    VectorKernels.pairOrder(prepX, r * in, pairScratch, r * in, in);
                }
            }
            if (prepPack && r1 <= tiled) {
                VectorKernels.packTile(src, r0 * in, TILE_ROWS, in, xTiles, r0 * in);
            }
        }
    }

    /**
     * Output rows [from, to) of a buffer-backed (mapped, or BF16/F16) weight. With fewer than {@link #DIRECT_ROWS}
     * input rows (decode, small batches and blocks) the register tiles widen the weights in registers, two input rows
     * per weight load (three for BF16 on AVX-512): on JDK 17 reading the buffer in place, else from each group of
     * four rows first copied raw into this thread's heap scratch (one bulk copy from the mapping, 16 KB for rows of
     * 2048 BF16, so it stays in L1) and read with array loads, which every JDK has; staging 16 or 64 rows per copy
     * was no faster, a copy per row slower (docs/BENCHMARKS.md, issue 15). A larger block widens each group into a
     * float panel once (from the buffer on JDK 17, else from the staged rows) for the blocked tiles. All of them sum
     * every (row, output) pair the same way: F32 exactly as a heap F32 weight does (bit-identical on the heap or
     * mapped), 16-bit in pair order over inputs put in pair order by the caller.
     */
    private void tensorMatmulRange(WeightTensor w, float[] out, float[] x, int rows, int in, int outDim, int from,
                                   int to) {
        Scratch s = scratch(in, rows);
        DType dtype = w.dtype();
        boolean wide = dtype == DType.F32;
        boolean brain = dtype == DType.BF16;
        boolean direct = direct(rows, dtype);
        short[] heapBits = w.heapBits();
        boolean inPlace = bufferVector && w.buffer() != null;
        if (VECTOR && wide && in <= SHORT_ROWS) { // the heap F32 order (matmulRange), from staged rows
            shortRange(out, x, null, w, rows, in, outDim, from, to, s);
            return;
        }
        int o = from;
        int groupsEnd = from + (to - from) / 4 * 4;
        if (VECTOR && direct && inPlace) {
            ByteBuffer buf = w.buffer();
            if (WIDE_TILES && rows == 1 && dtype == DType.F16) { // decode, F16: one row at a time (tile1x1F16)
                for (; o < groupsEnd; o++) {
                    VectorKernels.tile1x1F16(x, 0, buf, w.rowStart(o), in, out, o, s.acc);
                }
            }
            if (WIDE_TILES && rows == 1 && brain && in <= STREAMED_ROW) { // decode, short rows: one at a time
                for (; o < groupsEnd; o++) {
                    VectorKernels.tile1x1Bf16(x, 0, buf, w.rowStart(o), in, out, o, s.acc);
                }
            }
            if (WIDE_TILES && rows == 1 && brain) { // decode, long rows: eight in flight (VectorKernels.tile1x8Bf16)
                int[] ej = s.rowStarts;
                for (; o + 8 <= groupsEnd; o += 8) {
                    for (int j = 0; j < 8; j++) {
                        ej[j] = w.rowStart(o + j);
                    }
                    VectorKernels.tile1x8Bf16(x, 0, buf, ej, in, out, o, s.acc);
                }
            }
            for (; o < groupsEnd; o += 4) {
                int e0 = w.rowStart(o), e1 = w.rowStart(o + 1), e2 = w.rowStart(o + 2), e3 = w.rowStart(o + 3);
                int r = 0;
                if (WIDE_TILES && brain && rows >= THREE_ROW_TILES) {
                    for (; r + 3 <= rows; r += 3) {
                        VectorKernels.tile3x4Bf16(x, r * in, in, buf, e0, e1, e2, e3, in, out, r * outDim + o, outDim,
                                s.acc);
                    }
                }
                for (; r + 2 <= rows; r += 2) {
                    VectorKernels.tile2x4(x, r * in, in, buf, dtype, e0, e1, e2, e3, in, out, r * outDim + o, outDim,
                            s.acc);
                }
                if (r < rows) {
                    VectorKernels.tile1x4(x, r * in, buf, dtype, e0, e1, e2, e3, in, out, r * outDim + o, s.acc);
                }
            }
        } else if (VECTOR && !wide && inPlace) { // JDK 17: panels widened straight from the buffer
            ByteBuffer buf = w.buffer();
            for (; o < groupsEnd; o += 4) {
                VectorKernels.widenPanel(buf, dtype, w.rowStart(o), w.rowStart(o + 1), w.rowStart(o + 2),
                        w.rowStart(o + 3), s.panel, in);
                blocked(out, x, rows, in, outDim, o, s.panel, s.acc);
            }
        } else if (VECTOR) {
            for (; o < groupsEnd; o += 4) {
                short[] bits = s.bits; // the group's four rows: in place on the heap, else staged
                int base = 0;
                if (heapBits != null) {
                    bits = heapBits;
                    base = o * in;
                } else if (wide) {
                    w.copyRawRows(o, 4, s.floats, 0);
                } else {
                    w.copyRawRows(o, 4, s.bits, 0);
                }
                if (wide && direct) {
                    tiles(out, x, rows, s.floats, 0, in, outDim, o, s.acc);
                } else if (wide) {
                    for (int j = 0; j < 4; j++) {
                        VectorKernels.toPanel(s.floats, j * in, s.panel, j, in);
                    }
                    blocked(out, x, rows, in, outDim, o, s.panel, s.acc);
                } else if (direct) {
                    halfTiles(out, x, rows, bits, base, brain, in, outDim, o, s.acc);
                } else {
                    VectorKernels.widenPanel(bits, base, brain, s.panel, in);
                    blocked(out, x, rows, in, outDim, o, s.panel, s.acc);
                }
            }
        }
        for (; o < to; o++) {
            widenRow(w, o, s.row, s.bits);
            for (int r = 0; r < rows; r++) {
                out[r * outDim + o] = VECTOR ? VectorKernels.tile1x1(x, r * in, s.row, 0, in)
                        : dot(x, r * in, s.row, 0, in);
            }
        }
    }

    /**
     * Outputs o..o+3 for every input row from four 16-bit weight rows ({@code bits[w0 + j·in]}: staged, or the heap
     * tensor itself), in register tiles: three rows per weight load for BF16 on AVX-512 from
     * {@link #THREE_ROW_TILES} rows, then two, then one.
     */
    private static void halfTiles(float[] out, float[] x, int rows, short[] bits, int w0, boolean brain, int in,
                                  int outDim, int o, float[] acc) {
        int r = 0;
        if (WIDE_TILES && brain && rows >= THREE_ROW_TILES) {
            for (; r + 3 <= rows; r += 3) {
                VectorKernels.tile3x4Bf16(x, r * in, in, bits, w0, in, in, out, r * outDim + o, outDim, acc);
            }
        }
        for (; r + 2 <= rows; r += 2) {
            if (brain) {
                VectorKernels.tile2x4Bf16(x, r * in, in, bits, w0, in, in, out, r * outDim + o, outDim, acc);
            } else {
                VectorKernels.tile2x4F16(x, r * in, in, bits, w0, in, in, out, r * outDim + o, outDim, acc);
            }
        }
        if (r < rows && brain) {
            VectorKernels.tile1x4Bf16(x, r * in, bits, w0, in, in, out, r * outDim + o, acc);
        } else if (r < rows) {
            VectorKernels.tile1x4F16(x, r * in, bits, w0, in, in, out, r * outDim + o, acc);
        }
    }

    /**
     * Whether a buffer-backed matmul of {@code rows} input rows of {@code dtype} weights runs the register tiles
     * (else the blocked panels). F16 blocks on AVX-512 always go blocked: the in-place two-row tile, generic over
     * the 16-bit formats, fell to the Vector API's Java fallback for F16 (the dim-2048 F16 model: 2 rows 406 ms, 9
     * rows 2,090, against 509 for 17 rows blocked; docs/BENCHMARKS.md, issue 15).
     */
    private static boolean direct(int rows, DType dtype) {
        return rows < (WIDE_TILES && dtype == DType.F16 ? 2 : DIRECT_ROWS);
    }

    /**
     * A worker thread's scratch, grown as needed and reused across calls: four weight rows staged raw from a buffer
     * ({@code bits} for 16-bit, {@code floats} for F32), the same widened into a panel for the blocked tiles, one
     * widened row (the rows after the last group of four), the tiles' carried accumulators (four vectors per
     * input row, at least sixteen), a group of short rows transposed ({@link #shortRange}), and the element starts
     * of eight rows.
     */
    private static final class Scratch {
        short[] bits = new short[0];
        float[] floats = new float[0];
        float[] panel = new float[0];
        float[] row = new float[0];
        float[] acc = new float[0];
        float[] columns = new float[0];
        final int[] rowStarts = new int[8];
    }

    /** This thread's scratch, grown for rows of {@code in} and {@code rows} input rows. */
    private Scratch scratch(int in, int rows) {
        Scratch s = scratch.get();
        if (s.panel.length < 4 * in) {
            s.bits = new short[4 * in];
            s.floats = new float[4 * in];
            s.panel = new float[4 * in];
            s.row = new float[in];
        }
        int accLength = 4 * Math.max(4, rows) * (VECTOR ? VectorKernels.lanes() : 1);
        if (s.acc.length < accLength) {
            s.acc = new float[accLength];
        }
        return s;
    }

    /**
     * Outputs o..o+3 of every input row through the blocked tiles (see {@link VectorKernels}): a block of
     * {@link #BLOCK} elements at a time over all input rows, so the weight panel's block stays in L1 while the rows
     * pass, each tile's accumulators carried in {@code acc}; then lanes reduced and tails added. Whole tiles of
     * inputs come packed from {@link #xTiles}, the rows after them row-major from {@code x}.
     */
    private void blocked(float[] out, float[] x, int rows, int in, int outDim, int o, float[] panel, float[] acc) {
        int l = VectorKernels.lanes();
        int bound = in - in % l;
        int tiled = rows - rows % TILE_ROWS;
        float[] xt = xTiles;
        for (int i0 = 0; i0 == 0 || i0 < bound; i0 += BLOCK) { // at least one block, which zeroes the accumulators
            int i1 = Math.min(i0 + BLOCK, bound);
            boolean first = i0 == 0;
            int r = 0;
            for (; r < tiled; r += TILE_ROWS) {
                if (TILE_ROWS == 4) {
                    VectorKernels.block4x4(xt, r * in, panel, i0, i1, first, acc, 4 * r * l);
                } else {
                    VectorKernels.block2x4(xt, r * in, panel, i0, i1, first, acc, 4 * r * l);
                }
            }
            for (; r < rows; r++) {
                VectorKernels.block1x4(x, r * in, panel, i0, i1, first, acc, 4 * r * l);
            }
        }
        for (int r = 0; r < rows; r++) {
            boolean inTile = r < tiled;
            int tail = inTile // where the row's scalar tail lies: in its packed tile, or in x
                    ? (r - r % TILE_ROWS) * in + TILE_ROWS * bound + r % TILE_ROWS * (in - bound)
                    : r * in + bound;
            VectorKernels.blockFinish(acc, 4 * r * l, inTile ? xt : x, tail, panel, bound, in, out, r * outDim + o);
        }
    }

    /**
     * Buffer-backed weight row {@code wr} widened into {@code dst}: 16-bit rows in pair order on the SIMD path
     * ({@code bits}: scratch for the raw row).
     */
    private static void widenRow(WeightTensor w, int wr, float[] dst, short[] bits) {
        int n = w.cols();
        if (w.dtype() == DType.F32) {
            w.copyRawRows(wr, 1, dst, 0);
        } else if (!VECTOR) { // the scalar loops sum in natural order
            w.readRow(wr, dst, 0);
        } else {
            w.copyRawRows(wr, 1, bits, 0);
            int l = VectorKernels.lanes();
            VectorKernels.widenChunks(bits, w.dtype() == DType.BF16, 0, dst, 0, l, n - n % l, n);
        }
    }

    /**
     * Below this many input rows a buffer-backed matmul runs the register tiles over the staged rows (the "in place"
     * of the measurements below, from before the staging; two rows per load, the next pair
     * from cache); from it on it widens them into panels first. Measured on a 1.4 GB BF16 model, 2 threads, AVX2: in
     * place 1.6-2.4x faster at 4-5 rows, even at 6-9, 1.3-1.5x slower at 17-81 (docs/BENCHMARKS.md, issue 15). On the
     * Zen 5 AVX-512 host, against the blocked tiles: even at 9 rows, in place 10-20% slower at 12-16. With AVX2
     * since C2 no longer unrolls the two-row blocked tile's loop (VectorKernels#step), on the Zen 3 host: even at 4-6
     * rows, blocked 15% faster at 8. On an Intel AVX-512 host (2026-12-03): with the two-row tiles in place 20% faster
     * at 9 rows (155 against 196 ms); with the three-row BF16 tiles also 10% faster at 12 and 15 rows, even at 16, 17
     * and 20; so on AVX-512 blocks below 16 rows go in place.
     */
    private static final int DIRECT_ROWS = VECTOR && VectorKernels.wideTiles() ? 16 : 8;
    /**
     * From this many input rows, in-place BF16 matmuls on AVX-512 take three rows per weight load
     * ({@link VectorKernels#tile3x4Bf16}), each weight vector widened once per three rows rather than two. Measured
     * on an Intel AVX-512 host, dim-2048 BF16, 2 threads (docs/BENCHMARKS.md, issue 15): 9 rows 138 against 164-174 ms,
     * 5-6 rows 10% faster; 3 rows (one pass over the weights from memory either way) 15% slower, so not below 5.
     */
    private static final int THREE_ROW_TILES = 5;
    /**
     * Elements per block of the blocked tiles: the weight panel's block (four rows, 16 KB) stays in L1 while the
     * input tiles stream past it from L2. Measured on the Zen 5 host (48 KB L1): 1024 beat 256, 512 and 2048.
     */
    private static final int BLOCK = 1024;
    /**
     * From this many input rows, heap F32 weights with rows longer than a block go through the blocked tiles (their
     * four rows copied into a panel first). Shorter rows fit L1 as they are: on stories260K (rows of 64 and 172) the
     * register tiles were as fast or faster at every block size (docs/BENCHMARKS.md, issue 15).
     */
    private static final int BLOCKED_HEAP_ROWS = 16;
    private static final boolean WIDE_TILES = VECTOR && VectorKernels.wideTiles();
    /** Half a vector's lanes, a head size {@link #weightedValues} keeps in the lower half of a register. */
    private static final int HALF_LANES = VECTOR ? VectorKernels.halfLanes() : -1;
    /** Input rows per packed tile of the blocked kernels: 4 with 32 vector registers (AVX-512), else 2. */
    private static final int TILE_ROWS = WIDE_TILES ? 4 : 2;

    /**
     * Outputs o..o+3 for every input row, weight rows at w[w0 + j·in]: register tiles of four (AVX-512) or two (AVX2)
     * rows, then single rows. The tile shape changes no result: every kernel sums a pair the same way. {@code acc}:
     * scratch for the four-row tiles' accumulators (null when there are fewer than four rows).
     */
    private static void tiles(float[] out, float[] x, int rows, float[] w, int w0, int in, int outDim, int o,
                              float[] acc) {
        int r = 0;
        if (WIDE_TILES) {
            for (; r + 4 <= rows; r += 4) {
                VectorKernels.tile4x4(x, r * in, in, w, w0, in, in, out, r * outDim + o, outDim, acc);
            }
        } else {
            for (; r + 2 <= rows; r += 2) {
                VectorKernels.tile2x4(x, r * in, in, w, w0, in, in, out, r * outDim + o, outDim);
            }
        }
        for (; r < rows; r++) {
            VectorKernels.tile1x4(x, r * in, w, w0, in, in, out, r * outDim + o);
        }
    }

    private static boolean blockedHeap(int rows, int in) {
        return VECTOR && rows >= BLOCKED_HEAP_ROWS && in > BLOCK;
    }

    /**
     * Heap F32 rows of at most this many elements are summed across outputs ({@link #shortRange}), at every row
     * count, so a (row, output) pair has the same bits in any block: LoRA up-projections, whose rows are the
     * adapter's rank.
     */
    static final int SHORT_ROWS = 32;
    /**
     * One-row BF16 decode in place on AVX-512 reads rows of at most this many elements one after another
     * ({@link VectorKernels#tile1x1Bf16}): the weights are then read in file order, and a row's loop is short enough
     * that the core overlaps the next row's loads with the current row's chain of FMAs. Longer rows go eight at a
     * time ({@link VectorKernels#tile1x8Bf16}), since one long row leaves the loads in flight to one chain. Harness
     * over the mapped file, 2 threads, AMD EPYC with AVX-512: rows of 2,048 one at a time 32-39 GB/s, eight at a time
     * 27-31; rows of 5,632 21 against 27-35. On the dim-2048 model (six of a layer's seven matrices have rows of
     * 2,048), one-row decode 61.0 → 51.7 ms (medians of 6 alternating runs; docs/BENCHMARKS.md, issue 15). AVX2
     * keeps the four-row tile: neither was measured there.
     */
    private static final int STREAMED_ROW = 2048;

    private void matmulRange(float[] out, float[] x, float[] w, int rows, int in, int outDim, int from, int to) {
        if (VECTOR && in <= SHORT_ROWS) {
            shortRange(out, x, w, null, rows, in, outDim, from, to, scratch(in, rows));
            return;
        }
        int o = from;
        if (blockedHeap(rows, in)) {
            Scratch s = scratch(in, rows);
            for (; o + 4 <= to; o += 4) {
                for (int j = 0; j < 4; j++) {
                    VectorKernels.toPanel(w, (o + j) * in, s.panel, j, in);
                }
                blocked(out, x, rows, in, outDim, o, s.panel, s.acc);
            }
        } else if (VECTOR) {
            float[] acc = rows >= 4 ? scratch(in, 4).acc : null;
            for (; o + 4 <= to; o += 4) {
                tiles(out, x, rows, w, o * in, in, outDim, o, acc);
            }
        }
        for (; o < to; o++) {
            for (int r = 0; r < rows; r++) {
                out[r * outDim + o] = VECTOR ? VectorKernels.tile1x1(x, r * in, w, o * in, in)
                        : dot(x, r * in, w, o * in, in);
            }
        }
    }

    /**
     * Outputs [from, to) of a matmul with short F32 weight rows ({@link #SHORT_ROWS}), from the heap array {@code w}
     * or, where it is null, the tensor {@code t} (its rows staged first, so a mapped tensor gives the heap's bits):
     * groups of one vector's lanes of outputs transposed once and applied to every input row, four rows at a time;
     * the outputs after the last group one at a time, in the same order of operations
     * (see {@link VectorKernels#transposeShort}). {@code s}: the calling thread's scratch.
     */
    private static void shortRange(float[] out, float[] x, float[] w, WeightTensor t, int rows, int in, int outDim,
                                   int from, int to, Scratch s) {
        int l = VectorKernels.lanes();
        int staged = l * SHORT_ROWS; // the transposed group first, then (for a tensor) its rows as stored
        if (s.columns.length < 2 * staged) {
            s.columns = new float[2 * staged];
        }
        float[] wt = s.columns;
        int o = from;
        for (; o + l <= to; o += l) {
            if (w != null) {
                VectorKernels.transposeShort(w, o * in, in, wt);
            } else {
                t.copyRawRows(o, l, wt, staged);
                VectorKernels.transposeShort(wt, staged, in, wt);
            }
            int r = 0;
            for (; r + 4 <= rows; r += 4) {
                VectorKernels.shortTile4(x, r * in, in, in, wt, out, r * outDim + o, outDim);
            }
            for (; r < rows; r++) {
                VectorKernels.shortTile1(x, r * in, in, wt, out, r * outDim + o);
            }
        }
        for (; o < to; o++) {
            float[] row = w;
            int w0 = o * in;
            if (w == null) {
                t.copyRawRows(o, 1, wt, staged);
                row = wt;
                w0 = staged;
            }
            for (int r = 0; r < rows; r++) {
                out[r * outDim + o] = VectorKernels.shortDot(x, r * in, row, w0, in);
            }
        }
    }

    @Override
    public void scoresByPosition(float[] out, int outOff, float[] q, int qOff, float[] kT, int d0, int stride,
                                 int hd, int n, float scale) {
        int j = VECTOR ? VectorKernels.scoresByPosition(out, outOff, q, qOff, kT, d0, stride, hd, n, scale) : 0;
        for (; j < n; j++) {
            float s = 0f;
            for (int e = 0; e < hd; e++) {
                s = Math.fma(q[qOff + e], kT[(d0 + e) * stride + j], s);
            }
            out[outOff + j] = s * scale;
        }
    }

    @Override
    public void weightedValues(float[] out, int outOff, float[] weights, int[] cols, int m, float inv, float[] v,
                               int stride, int off, int hd) {
        // a head of one register keeps its sum in it; so does one of half a register (8 floats with AVX-512)
        boolean whole = hd == VectorKernels.lanes();
        boolean half = !whole && hd == HALF_LANES && hd >= 8 && lastRowFits(cols, m, v, stride, off);
        if (VECTOR && (whole || half)) {
            VectorKernels.weightedValues(out, outOff, weights, cols, m, inv, v, stride, off, hd, lanes.get());
        } else {
            Backend.super.weightedValues(out, outOff, weights, cols, m, inv, v, stride, off, hd);
        }
    }

    /**
     * Whether a full vector from every position's head lies inside {@code v} (the last slot's may not): the columns
     * come in increasing order (see {@link Backend#weightedValues}), so the last one is the furthest. A scan for the
     * largest was about 4% of a stories260K decode step.
     */
    private static boolean lastRowFits(int[] cols, int m, float[] v, int stride, int off) {
        return m == 0 || (long) cols[m - 1] * stride + off + 2L * HALF_LANES <= v.length;
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        if (VECTOR) {
            return VectorKernels.dot(a, aOff, b, bOff, n);
        }
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += a[aOff + i] * b[bOff + i];
            s1 += a[aOff + i + 1] * b[bOff + i + 1];
            s2 += a[aOff + i + 2] * b[bOff + i + 2];
            s3 += a[aOff + i + 3] * b[bOff + i + 3];
        }
        for (; i < n; i++) {
            s0 += a[aOff + i] * b[bOff + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public void axpy(float[] y, int yOff, float a, float[] x, int xOff, int n) {
        if (VECTOR) {
            VectorKernels.axpy(y, yOff, a, x, xOff, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    @Override
    public void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] w, int n, float eps) {
        float ss = dot(x, xOff, x, xOff, n);
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) {
            out[outOff + i] = w[i] * (scale * x[xOff + i]);
        }
    }

    @Override
    public float max(float[] a, int off, int n) {
        return VECTOR ? VectorKernels.max(a, off, n) : Backend.super.max(a, off, n);
    }

    @Override
    public float expShiftSum(float[] a, int off, int n, float shift) {
        return VECTOR ? VectorKernels.expShiftSum(a, off, n, shift)
                : ScalarBackend.expShiftSumScalar(a, off, n, shift);
    }

    @Override
    public void siluMul(float[] h, float[] g, int off, int n) {
        if (VECTOR) {
            VectorKernels.siluMul(h, g, off, n);
        } else {
            ScalarBackend.siluMulScalar(h, g, off, n);
        }
    }

    @Override
    public void parallelFor(int n, long workPerItem, RangeTask task) {
        if (workPerItem * n < PARALLEL_THRESHOLD || pool.threads() == 1 || n < 2) {
            task.run(0, n);
        } else {
            pool.run(n, task);
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}
