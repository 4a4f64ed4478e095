package io.mtpspark.engine.llama;

import io.mtpspark.engine.kvcache.SequenceCache;
import io.mtpspark.engine.sampling.SamplingOptions;

/**
 * The rows of one batched forward: the blocks of several sequences stacked one after another, each sequence (a
 * <em>segment</em>) with its own KV cache, attention mask and gate. The linears see all rows at once (one GEMM per
 * weight, which is where batching pays on a GPU or a memory-bound CPU); attention stays inside each segment.
 * Logit rows are numbered over the whole batch; a segment's logits come out in the order it asked for them, after
 * the logits of the segments added before it.
 *
 * <p>A decoder owns one instance, {@link #clear()}s it every step and {@link #add}s each active sequence; nothing is
 * allocated after construction.
 */
public final class BlockBatch {
    final int[] tokens;
    final int[] positions;
    final boolean[] gate;
    final int[] segmentStart; // segment s holds rows [segmentStart[s], segmentStart[s + 1])
    final SequenceCache[] caches;
    final AttentionMask[] masks;
    final int[] logitRows;
    final SamplingOptions[] sampling; // per segment; null = greedy
    boolean anyGate;
    int segments;
    int rows;
    int logitCount;

    /**
     * @param maxRows     rows over all segments
     * @param maxSegments sequences per batch
     */
    public BlockBatch(int maxRows, int maxSegments) {
        tokens = new int[maxRows];
        positions = new int[maxRows];
        gate = new boolean[maxRows];
        segmentStart = new int[maxSegments + 1];
        caches = new SequenceCache[maxSegments];
        masks = new AttentionMask[maxSegments];
        logitRows = new int[maxRows];
        sampling = new SamplingOptions[maxSegments];
    }

    public void clear() {
        for (int s = 0; s < segments; s++) {
            caches[s] = null;
            masks[s] = null;
            sampling[s] = null;
        }
        segments = 0;
        rows = 0;
        logitCount = 0;
        anyGate = false;
    }

    /** Rows added so far: the first row of the next segment in {@code hidden()} of the forward. */
    public int rows() {
        return rows;
    }

    /** Logit rows asked for so far: the first logits row of the next segment. */
    public int logitCount() {
        return logitCount;
    }

    public int segments() {
        return segments;
    }

    /**
     * How segment {@code s} picks its tokens, for forwards that verify on the device (the host decoders sample from
     * the logits themselves); greedy unless set.
     */
    public void sampling(int s, SamplingOptions options) {
        if (s < 0 || s >= segments) {
            throw new IllegalArgumentException("segment " + s + " of " + segments);
        }
        sampling[s] = options;
    }

    /** Segment {@code s}'s sampling options ({@link SamplingOptions#GREEDY} unless set). */
    public SamplingOptions sampling(int s) {
        SamplingOptions o = sampling[s];
        return o == null ? SamplingOptions.GREEDY : o;
    }

    // Read access for forwards outside this package (the device forward builds its step descriptor from these).

    public int token(int row) {
        return tokens[row];
    }

    public int position(int row) {
        return positions[row];
    }

    public boolean gated(int row) {
        return gate[row];
    }

    /** True when some row of the batch carries the gated-LoRA branch. */
    public boolean anyGate() {
        return anyGate;
    }

    /** First row of segment {@code s}; {@code segmentStart(segments())} is the row count. */
    public int segmentStart(int s) {
        return segmentStart[s];
    }

    public SequenceCache cache(int s) {
        return caches[s];
    }

    public AttentionMask mask(int s) {
        return masks[s];
    }

    /** Batch row of logit row {@code j}. */
    public int logitRow(int j) {
        return logitRows[j];
    }

    /**
     * Appends one sequence's block.
     *
     * @param tokens    the block's token ids (mask ids allowed when the forward gets an adapter)
     * @param positions position id of each row
     * @param gate      rows that get the gated-LoRA branch (null = none)
     * @param n         rows in this block
     * @param mask      attention inside the block, in the block's own row/column numbering
     * @param cache     this sequence's cache; grows by n; one segment per cache
     * @param logitRows rows of this block (0-based in the block) whose logits are needed
     * @param nLogits   entries of {@code logitRows} to use
     */
    public void add(int[] tokens, int[] positions, boolean[] gate, int n, AttentionMask mask, SequenceCache cache,
                    int[] logitRows, int nLogits) {
        if (n < 1 || rows + n > this.tokens.length) {
            throw new IllegalArgumentException("block of " + n + " rows after " + rows + " rows exceeds the batch of "
                    + this.tokens.length + " rows");
        }
        if (segments == caches.length) {
            throw new IllegalArgumentException("batch already holds " + segments + " sequences");
        }
        for (int s = 0; s < segments; s++) {
            if (caches[s] == cache) {
                throw new IllegalArgumentException("one KV cache added twice to a batch (segments " + s + " and "
                        + segments + ")");
            }
        }
        if (logitCount + nLogits > this.logitRows.length) {
            throw new IllegalArgumentException(nLogits + " logit rows after " + logitCount + " exceed the batch of "
                    + this.logitRows.length);
        }
        for (int j = 0; j < nLogits; j++) {
            if (logitRows[j] < 0 || logitRows[j] >= n) {
                throw new IllegalArgumentException("logit row " + logitRows[j] + " outside the block of " + n);
            }
        }
        System.arraycopy(tokens, 0, this.tokens, rows, n);
        System.arraycopy(positions, 0, this.positions, rows, n);
        for (int i = 0; i < n; i++) {
            boolean g = gate != null && gate[i];
            this.gate[rows + i] = g;
            anyGate |= g;
        }
        for (int j = 0; j < nLogits; j++) {
            this.logitRows[logitCount++] = rows + logitRows[j];
        }
        caches[segments] = cache;
        masks[segments] = mask;
        segmentStart[segments] = rows;
        rows += n;
        segments++;
        segmentStart[segments] = rows;
    }
}
