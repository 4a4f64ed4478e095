package io.mtpspark.engine.kvcache;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.model.LlamaConfig;

/**
 * Keys and values of one sequence, per layer as {@code [rows][kvDim]}. Slots [0, length) hold committed tokens. A
 * block forward appends its rows ({@link #reserve} first); speculative decoders then keep only the accepted ones with
 * {@link #compact} or drop a tail with {@link #truncate}. Memory grows with use, doubling up to {@code capacity}
 * rows, so a batch of sequences with a long context but short generations does not hold the whole context each;
 * once grown, a cache keeps its size for the next request it serves.
 */
public final class KvCache implements SequenceCache {
    /** Rows allocated up front (or the capacity, when smaller). */
    static final int INITIAL_ROWS = 256;

    private final float[][] keys;
    private final float[][] values;
    /** Keys again, position-major per key dimension: element (slot, d) at {@code d * allocated + slot}. */
    private final float[][] keysByPosition;
    private final int kvDim;
    private final int capacity;
    private int allocated;
    private int length;

    public KvCache(LlamaConfig config, int capacity) {
        this(config.nLayers(), config.kvDim(), capacity);
    }

    public KvCache(int layers, int kvDim, int capacity) {
        if ((long) capacity * kvDim > Integer.MAX_VALUE - 8) {
            throw new EngineException("KV cache of " + capacity + " positions × " + kvDim
                    + " floats per layer exceeds the array limit; use a smaller context");
        }
        this.keys = new float[layers][];
        this.values = new float[layers][];
        this.keysByPosition = new float[layers][];
        this.kvDim = kvDim;
        this.capacity = capacity;
        grow(Math.min(capacity, INITIAL_ROWS));
    }

    /** Makes room for {@code rows} rows (at most the capacity), keeping the committed ones. */
    public void reserve(int rows) {
        if (rows > capacity) {
            throw new IllegalArgumentException("KV cache of " + capacity + " rows cannot hold " + rows);
        }
        if (rows > allocated) {
            grow((int) Math.min(capacity, Math.max(rows, 2L * allocated)));
        }
    }

    /** Rows currently backed by memory (grows on demand up to {@link #capacity()}). */
    public int allocatedRows() {
        return allocated;
    }

    private void grow(int rows) {
        long bytes = 2L * keys.length * rows * kvDim * Float.BYTES;
        try {
            for (int l = 0; l < keys.length; l++) {
                keys[l] = copyOf(keys[l], rows);
                values[l] = copyOf(values[l], rows);
                keysByPosition[l] = restride(keysByPosition[l], rows);
            }
        } catch (OutOfMemoryError e) {
            throw new EngineException("out of memory growing the KV cache to " + bytes / (1 << 20) + " MiB for "
                    + rows + " positions × " + keys.length + " layers; raise -Xmx or lower the context or batch size");
        }
        allocated = rows;
    }

    private float[] copyOf(float[] old, int rows) {
        float[] grown = new float[rows * kvDim];
        if (old != null) {
            System.arraycopy(old, 0, grown, 0, length * kvDim);
        }
        return grown;
    }

    private float[] restride(float[] old, int rows) {
        float[] grown = new float[rows * kvDim];
        if (old != null) {
            for (int d = 0; d < kvDim; d++) {
                System.arraycopy(old, d * allocated, grown, d * rows, length);
            }
        }
        return grown;
    }

    /**
     * Writes the key row of {@code slot} in layer {@code layer} from {@code src[off .. off + kvDim)}, in both
     * layouts: row-major ({@link #keys}) and position-major ({@link #keysByPosition}), which lets attention
     * vectorise its scores over positions.
     */
    public void putKey(int layer, int slot, float[] src, int off) {
        System.arraycopy(src, off, keys[layer], slot * kvDim, kvDim);
        float[] t = keysByPosition[layer];
        for (int d = 0; d < kvDim; d++) {
            t[d * allocated + slot] = src[off + d];
        }
    }

    /** The layer's keys position-major: element (slot, d) at {@code d * positionStride() + slot}. */
    public float[] keysByPosition(int layer) {
        return keysByPosition[layer];
    }

    /** Distance between key dimensions in {@link #keysByPosition} (the allocated rows; changes when it grows). */
    public int positionStride() {
        return allocated;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    public int kvDim() {
        return kvDim;
    }

    public float[] keys(int layer) {
        return keys[layer];
    }

    public float[] values(int layer) {
        return values[layer];
    }

    /** Marks {@code n} more rows (already written by the forward pass) as part of the sequence. */
    public void append(int n) {
        if (length + n > allocated) {
            throw new IllegalStateException("KV cache overflow: " + length + " + " + n + " > " + allocated
                    + " reserved rows (capacity " + capacity + ")");
        }
        length += n;
    }

    /** Drops every row at or after {@code newLength}. */
    @Override
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("truncate to " + newLength + " outside [0, " + length + "]");
        }
        length = newLength;
    }

    /**
     * Keeps chosen rows of the last block: the block starts at {@code blockStart}; {@code keep[0..count)} are
     * strictly increasing offsets into it. Row {@code blockStart + keep[i]} moves to {@code blockStart + i} in every
     * layer and the cache ends after the kept rows.
     */
    @Override
    public void compact(int blockStart, int[] keep, int count) {
        if (blockStart < 0 || blockStart > length) {
            throw new IllegalArgumentException("block start " + blockStart + " outside [0, " + length + "]");
        }
        int prev = -1;
        for (int i = 0; i < count; i++) {
            if (keep[i] <= prev || blockStart + keep[i] >= length) {
                throw new IllegalArgumentException("keep rows must be increasing offsets inside the block, got "
                        + keep[i] + " at " + i);
            }
            prev = keep[i];
        }
        for (int l = 0; l < keys.length; l++) {
            float[] t = keysByPosition[l];
            for (int i = 0; i < count; i++) {
                if (keep[i] != i) {
                    for (int d = 0; d < kvDim; d++) {
                        t[d * allocated + blockStart + i] = t[d * allocated + blockStart + keep[i]];
                    }
                    System.arraycopy(keys[l], (blockStart + keep[i]) * kvDim, keys[l], (blockStart + i) * kvDim, kvDim);
                    System.arraycopy(values[l], (blockStart + keep[i]) * kvDim, values[l], (blockStart + i) * kvDim,
                            kvDim);
                }
            }
        }
        length = blockStart + count;
    }
}
