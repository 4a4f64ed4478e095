package io.mtpspark.engine.kvcache;

/**
 * The KV-cache operations a decoder performs on one sequence's cache, wherever the cache lives: the host
 * ({@link KvCache}, for the CPU forward) or a slot of the device's KV pool (the device forward). The forward that
 * made a cache appends the rows of each block it runs; decoders read the length and keep or drop rows.
 */
public interface SequenceCache {
    /** Rows that belong to the sequence. */
    int length();

    /** Rows the cache can hold. */
    int capacity();

    /** Drops every row at or after {@code newLength}. */
    void truncate(int newLength);

    /**
     * Keeps chosen rows of the last block: the block starts at {@code blockStart}; {@code keep[0..count)} are
     * strictly increasing offsets into it. Row {@code blockStart + keep[i]} moves to {@code blockStart + i} in every
     * layer and the cache ends after the kept rows.
     */
    void compact(int blockStart, int[] keep, int count);
}
