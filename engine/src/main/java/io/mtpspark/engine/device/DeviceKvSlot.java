package io.mtpspark.engine.device;

import io.mtpspark.engine.kvcache.SequenceCache;

/**
 * One sequence's KV cache on the device: a fixed slot of its forward's KV pool (rows {@code slot · capacity} ..
 * of every layer), with the sequence's length kept on the host. Continuous batching reuses a slot for request after
 * request; nothing is copied. Truncation only moves the length; compaction of an MTP block's accepted rows runs as
 * one {@code kv_compact} launch over every layer.
 */
public final class DeviceKvSlot implements SequenceCache {
    private final DeviceForward owner;
    private final int slot;
    private final int capacity;
    private int length;
    private int keptStart = -1; // the last step's accepted rows, already compacted on the device (DeviceVerifier)
    private int keptCount;

    DeviceKvSlot(DeviceForward owner, int slot, int capacity) {
        this.owner = owner;
        this.slot = slot;
        this.capacity = capacity;
    }

    DeviceForward owner() {
        return owner;
    }

    /** The slot's index in the pool; its first row in a layer is {@code slot() * capacity()}. */
    int slot() {
        return slot;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    void append(int rows) {
        length += rows;
    }

    /** The device verifier kept rows [blockStart, blockStart + count) of the step that is about to be appended. */
    void keptOnDevice(int blockStart, int count) {
        keptStart = blockStart;
        keptCount = count;
    }

    @Override
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("truncate to " + newLength + " outside [0, " + length + "]");
        }
        length = newLength;
        keptStart = -1;
    }

    @Override
    public void compact(int blockStart, int[] keep, int count) {
        if (blockStart < 0 || blockStart > length) {
            throw new IllegalArgumentException("block start " + blockStart + " outside [0, " + length + "]");
        }
        int prev = -1;
        boolean moves = false;
        for (int i = 0; i < count; i++) {
            if (keep[i] <= prev || blockStart + keep[i] >= length) {
                throw new IllegalArgumentException("keep rows must be increasing offsets inside the block, got "
                        + keep[i] + " at " + i);
            }
            prev = keep[i];
            moves |= keep[i] != i;
        }
        if (keptStart >= 0) {
            // the device already moved the accepted rows; the decoder's keep-list must describe the same rows
            if (blockStart + count != keptStart + keptCount || (moves && blockStart != keptStart)) {
                throw new IllegalStateException("the decoder keeps " + count + " rows from " + blockStart
                        + " but the device verifier kept " + keptCount + " from " + keptStart);
            }
        } else if (moves) {
            owner.compact(this, blockStart, keep, count);
        }
        keptStart = -1;
        length = blockStart + count;
    }
}
