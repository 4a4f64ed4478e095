package io.mtpspark.engine.tensor;

import io.mtpspark.engine.safetensors.DType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * One weight matrix {@code [rows][cols]}, row-major, kept in the element type it was stored in (F32, BF16 or F16).
 * This is the one weight abstraction of the engine: the CPU kernels read it (widening BF16/F16 in registers), the
 * device engine uploads its raw bytes as they are, and neither ever needs an F32 copy of a BF16 model.
 *
 * <p>Storage is either a heap array in the stored type ({@code float[]} for F32, the raw bits in a {@code short[]}
 * for BF16/F16: weights built or converted in memory, or a checkpoint copied to the heap because it fits, see
 * {@link #onHeap()}; the JIT's fastest path) or a little-endian {@link ByteBuffer} of exactly
 * {@code rows * cols * dtype.bytes()} bytes, usually a read-only slice of the memory-mapped checkpoint, so the page
 * cache is the only copy. A buffer-backed
 * tensor may carry a row map (logical row r is stored row {@code rowMap[r]}): how the q/k RoPE row permutation is
 * served from the mapping without a copy. Instances are immutable and safe to share between threads; {@link #bytes()}
 * hands out an independent view each time.
 */
public final class WeightTensor {
    private final DType dtype;
    private final int rows;
    private final int cols;
    private final float[] heap;    // F32 on the heap, or null
    private final short[] heapBits; // BF16/F16 raw bits on the heap, or null
    private final ByteBuffer data; // little-endian raw elements, or null when on the heap
    private final int[] rowMap;    // stored row of each logical row of data, or null for the identity
    private final ShortBuffer shorts; // data as 16-bit elements (BF16/F16), or null
    private final FloatBuffer floats; // data as F32 elements, or null

    private WeightTensor(DType dtype, int rows, int cols, float[] heap, ByteBuffer data, int[] rowMap) {
        this(dtype, rows, cols, heap, null, data, rowMap);
    }

    private WeightTensor(DType dtype, int rows, int cols, float[] heap, short[] heapBits, ByteBuffer data,
                         int[] rowMap) {
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
        this.heap = heap;
        this.heapBits = heapBits;
        this.data = data;
        this.rowMap = rowMap;
        this.shorts = data != null && dtype != DType.F32 ? data.asShortBuffer() : null;
        this.floats = data != null && dtype == DType.F32 ? data.asFloatBuffer() : null;
    }

    /** F32 weights held in {@code values} (not copied; the caller gives up the array). */
    public static WeightTensor ofFloats(float[] values, int rows, int cols) {
        checkShape(rows, cols);
        if ((long) rows * cols != values.length) {
            throw new IllegalArgumentException("weight of shape [" + rows + "][" + cols + "] given "
                    + values.length + " values");
        }
        return new WeightTensor(DType.F32, rows, cols, values, null, null);
    }

    /** BF16 or F16 weights as their raw bits in {@code bits} (not copied; the caller gives up the array). */
    public static WeightTensor ofBits(DType dtype, short[] bits, int rows, int cols) {
        checkShape(rows, cols);
        if (dtype == DType.F32) {
            throw new IllegalArgumentException("ofBits holds BF16 or F16 weights, not F32");
        }
        if ((long) rows * cols != bits.length) {
            throw new IllegalArgumentException("weight of shape [" + rows + "][" + cols + "] given "
                    + bits.length + " elements");
        }
        return new WeightTensor(dtype, rows, cols, null, bits, null, null);
    }

    /**
     * Raw little-endian elements of {@code dtype} in {@code bytes} from its position to its limit (a view is taken;
     * the buffer's own position and order are left alone). The byte count must match the shape exactly.
     */
    public static WeightTensor ofBytes(DType dtype, ByteBuffer bytes, int rows, int cols) {
        checkShape(rows, cols);
        long need = (long) rows * cols * dtype.bytes();
        if (bytes.remaining() != need) {
            throw new IllegalArgumentException("weight of shape [" + rows + "][" + cols + "] " + dtype + " needs "
                    + need + " bytes, given " + bytes.remaining());
        }
        ByteBuffer view = bytes.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return new WeightTensor(dtype, rows, cols, null, view, null);
    }

    private static void checkShape(int rows, int cols) {
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException("weight of shape [" + rows + "][" + cols + "]");
        }
        if ((long) rows * cols * Float.BYTES > Integer.MAX_VALUE) {
            // one ByteBuffer / array per tensor: the largest tensors of 8B-class models (embeddings) fit
            throw new IllegalArgumentException("weight of shape [" + rows + "][" + cols
                    + "] exceeds the 2 GiB a single tensor may hold");
        }
    }

    public DType dtype() {
        return dtype;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public long elements() {
        return (long) rows * cols;
    }

    /** Bytes of the stored elements (what a forward reads per pass, what the device upload sends). */
    public long byteSize() {
        return elements() * dtype.bytes();
    }

    /** True when the elements are a heap {@code float[]} ({@link #heapFloats()} then returns it). */
    public boolean isHeapF32() {
        return heap != null;
    }

    /** True when the elements are a heap array, of either kind ({@link #heapFloats()}, {@link #heapBits()}). */
    public boolean isHeap() {
        return heap != null || heapBits != null;
    }

    /**
     * This tensor with its elements in a heap array of its own type, rows in logical order (a row map applied):
     * {@code this} when already on the heap. The bits stay the same; JDK 17's Vector API reads a heap array about
     * twice as fast as a buffer (its buffer loads re-check the buffer each time), and later JDKs then need no
     * staging copy (docs/BENCHMARKS.md, issue 15). Costs a heap copy of {@link #byteSize()} bytes.
     */
    public WeightTensor onHeap() {
        if (isHeap()) {
            return this;
        }
        int n = (int) elements();
        if (dtype == DType.F32) {
            float[] out = new float[n];
            copyRawRows(0, rows, out, 0);
            return new WeightTensor(dtype, rows, cols, out, null, null, null);
        }
        short[] out = new short[n];
        copyRawRows(0, rows, out, 0);
        return new WeightTensor(dtype, rows, cols, null, out, null, null);
    }

    /** The heap bits of a BF16/F16 tensor held on the heap (row-major, logical order), or null; never to be written. */
    short[] heapBits() {
        return heapBits;
    }

    /** The heap array of an F32 tensor built in memory; shared, never to be written. */
    public float[] heapFloats() {
        if (heap == null) {
            throw new IllegalStateException("weight is " + dtype + " in a buffer, not a heap float[]");
        }
        return heap;
    }

    /**
     * Logical rows {@code [row, row + count)}'s raw elements copied into {@code dst[off ..]}, one row after another:
     * how the CPU kernels stage a buffer-backed weight's rows into heap scratch on JDKs whose Vector API has no buffer
     * loads (19+). One bulk copy (a memcpy on a little-endian machine) when the rows are stored in order (no row map),
     * which is most weights: with a copy per row a staged one-row step was slower (medians 86.7 against 80.6 ms in
     * two ABBA series, docs/BENCHMARKS.md, issue 15). 16-bit tensors.
     */
    void copyRawRows(int row, int count, short[] dst, int off) {
        if (heapBits != null) {
            System.arraycopy(heapBits, row * cols, dst, off, count * cols);
            return;
        }
        if (rowMap == null) {
            shorts.get(row * cols, dst, off, count * cols);
            return;
        }
        for (int r = 0; r < count; r++) {
            shorts.get(rowStart(row + r), dst, off + r * cols, cols);
        }
    }

    /** {@link #copyRawRows} for an F32 buffer-backed tensor: the rows' values as they are. */
    void copyRawRows(int row, int count, float[] dst, int off) {
        if (heap != null) {
            System.arraycopy(heap, row * cols, dst, off, count * cols);
            return;
        }
        if (rowMap == null) {
            floats.get(row * cols, dst, off, count * cols);
            return;
        }
        for (int r = 0; r < count; r++) {
            floats.get(rowStart(row + r), dst, off + r * cols, cols);
        }
    }

    /** The stored buffer itself (no view taken), for this package's kernels; null for a heap tensor (either kind). */
    ByteBuffer buffer() {
        return data;
    }

    /** Where logical row {@code row} starts in {@link #buffer()}, in elements (the row map applied). */
    int rowStart(int row) {
        return (rowMap == null ? row : rowMap[row]) * cols;
    }

    /**
     * The raw little-endian elements as a fresh read-only view (position 0, limit {@link #byteSize()}). A heap F32
     * tensor is copied into a new buffer: callers that upload or checksum may use this for any tensor.
     */
    public ByteBuffer bytes() {
        if (heap != null) {
            ByteBuffer b = ByteBuffer.allocate(heap.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(heap);
            return b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        }
        if (heapBits != null) {
            ByteBuffer b = ByteBuffer.allocate(heapBits.length * Short.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            b.asShortBuffer().put(heapBits);
            return b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        }
        if (rowMap != null) { // rows in logical order: a transient copy for the caller (a device upload)
            int rowBytes = cols * dtype.bytes();
            ByteBuffer b = ByteBuffer.allocate((int) byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < rows; r++) {
                b.put(r * rowBytes, data, rowStart(r) * dtype.bytes(), rowBytes);
            }
            return b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        }
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Element {@code [row][col]} widened to float (exact for every dtype). The scalar oracle reads through this. */
    public float get(int row, int col) {
        return at((long) row * cols + col);
    }

    /** Element at flat row-major index {@code i}, widened to float. */
    public float at(long i) {
        if (heap != null) {
            return heap[(int) i];
        }
        if (heapBits != null) {
            short b = heapBits[(int) i];
            return dtype == DType.BF16 ? DType.bf16ToFloat(b) : DType.f16ToFloat(b);
        }
        int idx = rowMap == null ? (int) i : rowStart((int) (i / cols)) + (int) (i % cols);
        switch (dtype) {
            case F32:
                return data.getFloat(idx * 4);
            case BF16:
                return DType.bf16ToFloat(data.getShort(idx * 2));
            case F16:
                return DType.f16ToFloat(data.getShort(idx * 2));
            default:
                throw new AssertionError(dtype);
        }
    }

    /** Row {@code row} widened to float into {@code dst[off .. off + cols)}: an embedding lookup. */
    public void readRow(int row, float[] dst, int off) {
        if (heap != null) {
            System.arraycopy(heap, row * cols, dst, off, cols);
            return;
        }
        long base = (long) row * cols;
        for (int c = 0; c < cols; c++) {
            dst[off + c] = at(base + c); // at() applies the row map
        }
    }

    /** Every element widened to a new F32 array: for training and tests, never on a serving path. */
    public float[] toFloatArray() {
        if (heap != null) {
            return heap.clone();
        }
        float[] out = new float[(int) elements()];
        for (int r = 0; r < rows; r++) {
            readRow(r, out, r * cols);
        }
        return out;
    }

    /**
     * This tensor in {@code target} element type: rounding to nearest even when narrowing (F32 to BF16/F16, as the
     * converter and the device's {@code to_bf16} kernel do), exact when widening. Returns {@code this} when the type
     * already matches. The result is a heap tensor.
     */
    public WeightTensor to(DType target) {
        if (target == dtype) {
            return this;
        }
        int n = (int) elements();
        if (target == DType.F32) {
            return ofFloats(toFloatArray(), rows, cols);
        }
        short[] out = new short[n];
        for (int i = 0; i < n; i++) {
            float f = at(i);
            out[i] = target == DType.BF16 ? DType.floatToBf16(f) : DType.floatToF16(f);
        }
        return ofBits(target, out, rows, cols);
    }

    /**
     * This tensor with its rows reordered: row {@code r} of the result is row {@code sourceRows[r]} of this one, in
     * the same dtype. A heap F32 tensor is copied (its kernels index the array directly); a buffer-backed one shares
     * this tensor's buffer under a row map, so a mapped checkpoint's rows stay in the page cache only. The loader uses
     * it for the q/k row permutation between RoPE layouts. Every element reads back exactly as in a copy.
     */
    public WeightTensor permuteRows(int[] sourceRows) {
        if (sourceRows.length != rows) {
            throw new IllegalArgumentException(sourceRows.length + " row indices for a tensor of " + rows + " rows");
        }
        for (int src : sourceRows) {
            if (src < 0 || src >= rows) {
                throw new IllegalArgumentException("row index " + src + " outside a tensor of " + rows + " rows");
            }
        }
        if (heap != null) {
            float[] out = new float[heap.length];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(heap, sourceRows[r] * cols, out, r * cols, cols);
            }
            return ofFloats(out, rows, cols);
        }
        if (heapBits != null) {
            short[] out = new short[heapBits.length];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(heapBits, sourceRows[r] * cols, out, r * cols, cols);
            }
            return ofBits(dtype, out, rows, cols);
        }
        int[] map = new int[rows];
        for (int r = 0; r < rows; r++) {
            map[r] = rowStart(sourceRows[r]) / cols;
        }
        return new WeightTensor(dtype, rows, cols, null, data, map);
    }

    @Override
    public String toString() {
        return "WeightTensor[" + rows + "x" + cols + " " + dtype + (isHeap() ? " heap" : "")
                + (rowMap != null ? " rows permuted" : "") + "]";
    }
}
