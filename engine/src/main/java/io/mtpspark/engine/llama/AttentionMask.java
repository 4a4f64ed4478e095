package io.mtpspark.engine.llama;

/**
 * Which keys a new row may attend to during a block forward. Rows index the n new tokens; columns index the cache
 * followed by the new tokens, so column {@code cacheLength + j} is new token j.
 */
public interface AttentionMask {

    boolean allows(int row, int column, int cacheLength);

    /** True when every row sees every cached column, so the forward can skip the per-column check there. */
    default boolean seesWholeCache() {
        return false;
    }

    /** Plain causal attention: every cached token plus new tokens up to and including the row itself. */
    AttentionMask CAUSAL = new AttentionMask() {
        @Override
        public boolean allows(int row, int column, int cacheLength) {
            return column <= cacheLength + row;
        }

        @Override
        public boolean seesWholeCache() {
            return true;
        }
    };

    /**
     * The whole cache plus an explicit {@code n×n} pattern over the block's own tokens ({@code local[row*n + j]}),
     * the shape MTP blocks need. The array is used as given, not copied, so one instance can be reused per step.
     */
    static AttentionMask cachePlusLocal(boolean[] local, int n) {
        BlockLocalMask m = new BlockLocalMask(local);
        m.resize(n);
        return m;
    }

    /** A dense mask over {@code rows × columns}, for arbitrary patterns (tests, custom layouts). */
    static AttentionMask dense(boolean[] allowed, int columns) {
        return (row, column, cacheLength) -> allowed[row * columns + column];
    }
}
