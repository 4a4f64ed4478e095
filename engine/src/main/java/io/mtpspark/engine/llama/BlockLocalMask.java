package io.mtpspark.engine.llama;

/**
 * A reusable mask for speculative blocks: every row sees the whole cache, and within the block row i sees column j
 * iff {@code local[i*n + j]}. Decoders refill {@link #local()} and call {@link #resize} each step instead of
 * allocating a new mask.
 */
public final class BlockLocalMask implements AttentionMask {
    private final boolean[] local;
    private int n;

    public BlockLocalMask(int maxRows) {
        this(new boolean[maxRows * maxRows]);
    }

    BlockLocalMask(boolean[] local) {
        this.local = local;
    }

    /** The n×n pattern, row-major with stride n (as set by the last {@link #resize}). */
    public boolean[] local() {
        return local;
    }

    public void resize(int rows) {
        if (rows * rows > local.length) {
            throw new IllegalArgumentException("block of " + rows + " rows exceeds the mask buffer");
        }
        this.n = rows;
    }

    public void set(int row, int col, boolean visible) {
        local[row * n + col] = visible;
    }

    @Override
    public boolean seesWholeCache() {
        return true;
    }

    @Override
    public boolean allows(int row, int column, int cacheLength) {
        return column < cacheLength || local[row * n + column - cacheLength];
    }
}
