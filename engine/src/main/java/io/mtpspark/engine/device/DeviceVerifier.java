package io.mtpspark.engine.device;

import io.mtpspark.engine.llama.BlockBatch;
import io.mtpspark.engine.llama.GreedyVerdicts;

import java.nio.IntBuffer;

/**
 * Greedy MTP verification and KV compaction on the device, queued by {@link DeviceForward} right after the LM head
 * and its argmax, before the step's one sync: {@code mtp_verify} (one warp per sequence) finds each segment's
 * accepted prefix, emitted count (stop tokens from a small device table), keep-list and next draft row from the
 * device argmax of its real rows; {@code kv_compact_accepted} then moves the accepted real rows' K/V into place in
 * every layer, reading the accept count on the device. The host reads back four ints per sequence plus the argmax of
 * its k + 1 real rows; full-vocabulary logits stay on the device. Nothing is allocated per step.
 */
final class DeviceVerifier implements AutoCloseable {
    /** Real rows a segment may verify: one warp's lanes. */
    static final int MAX_LOGITS_PER_SEGMENT = 32;

    private final DeviceApi d;
    private final int nStop;
    private final long verdictDev;
    private final long keepDev;
    private final long stopDev;
    private final HostBuffer hSeg;
    private final HostBuffer hVerdict;
    private final int[] segFirst;
    private final int[] segCount;
    private final int[] segVerdict;
    private final int[] verdicts;
    private final GreedyVerdicts view;
    private final int kVerify;
    private final int kCompact;
    private final LaunchArgs args = new LaunchArgs(12);

    DeviceVerifier(DeviceApi d, int segmentsMax, int maxLogitRows, int[] stopIds, int[] argmax) {
        if (stopIds.length == 0) {
            throw new IllegalArgumentException("device verification needs at least one stop token id");
        }
        this.d = d;
        this.nStop = stopIds.length;
        verdictDev = d.malloc(16L * segmentsMax);
        keepDev = d.malloc(4L * segmentsMax * MAX_LOGITS_PER_SEGMENT);
        stopDev = d.malloc(4L * nStop);
        hSeg = d.pinned(4L * nStop);
        hVerdict = d.pinned(16L * segmentsMax);
        segFirst = new int[segmentsMax];
        segCount = new int[segmentsMax];
        segVerdict = new int[4 * segmentsMax];
        verdicts = new int[4 * maxLogitRows];
        view = new GreedyVerdicts(argmax, verdicts);
        kVerify = d.kernel("mtp_verify");
        kCompact = d.kernel("kv_compact_accepted");
        hSeg.bytes().asIntBuffer().put(stopIds);
        d.copyToDevice(stopDev, hSeg, 0, 4L * nStop);
        d.sync();
    }

    long verdictDevice() {
        return verdictDev;
    }

    /** Per segment (after {@link #finish}): accepted, emitted, next draft row, offset of real row 0. */
    int[] segmentVerdicts() {
        return segVerdict;
    }

    int[] segmentFirstLogit() {
        return segFirst;
    }

    /** Logit rows per segment of the last {@link #prepare}. */
    int[] segmentLogitCount() {
        return segCount;
    }

    GreedyVerdicts view() {
        return view;
    }

    /**
     * Writes each segment's first logit index and logit count into the step descriptor at {@code offset} (ints),
     * padding segments {@code segments..padded} with no logits (the kernels skip them).
     */
    void prepare(BlockBatch batch, IntBuffer desc, int offset, int padded) {
        int segments = batch.segments();
        int j = 0;
        for (int s = 0; s < segments; s++) {
            int end = batch.segmentStart(s + 1);
            segFirst[s] = j;
            while (j < batch.logitCount() && batch.logitRow(j) < end) {
                j++;
            }
            segCount[s] = j - segFirst[s];
            if (segCount[s] > MAX_LOGITS_PER_SEGMENT) {
                throw new IllegalArgumentException("segment " + s + " verifies " + segCount[s] + " real rows; device"
                        + " verification takes at most " + MAX_LOGITS_PER_SEGMENT + " (k <= 31)");
            }
            desc.put(offset + 2 * s, segFirst[s]).put(offset + 2 * s + 1, segCount[s]);
        }
        for (int s = segments; s < padded; s++) {
            desc.put(offset + 2 * s, 0).put(offset + 2 * s + 1, 0);
        }
    }

    /**
     * Queues verification and compaction for {@code segments} segments (padded ones included); the descriptor
     * (tokens, logit rows, per-segment logit ranges, segments) and the argmax are already queued. Only pointers and
     * fixed sizes are passed, so the launches can be captured into a graph.
     */
    void enqueue(int segments, long argmaxDev, long descTokens, long descLogitRows, long descSegLogits, long descSeg,
                 int vocab, long kPool, long vPool, int layers, int kvWords, long layerWords, int compactThreads) {
        d.launch(kVerify, segments, 1, 1, 32, args.reset().ptr(argmaxDev).ptr(descTokens).ptr(descLogitRows)
                .ptr(descSegLogits).ptr(descSeg).ptr(stopDev).i32(nStop).i32(vocab).ptr(verdictDev).ptr(keepDev)
                .i32(MAX_LOGITS_PER_SEGMENT));
        d.launch(kCompact, layers, 2, segments, compactThreads, args.reset().ptr(kPool).ptr(vPool).ptr(descSeg)
                .ptr(verdictDev).ptr(keepDev).i32(MAX_LOGITS_PER_SEGMENT).i32(kvWords).i64(layerWords));
    }

    /** Queues the copy of the real segments' verdicts to the host (after the step's launches). */
    void copyBack(int segments) {
        d.copyToHost(hVerdict, 0, verdictDev, 16L * segments);
    }

    /**
     * After the step's sync: publishes the verdicts by first logit row and tells each slot which rows the device
     * kept (cache lengths are still those before the step).
     */
    void finish(BlockBatch batch) {
        int segments = batch.segments();
        hVerdict.bytes().asIntBuffer().get(0, segVerdict, 0, 4 * segments);
        for (int s = 0; s < segments; s++) {
            if (segCount[s] == 0) {
                continue;
            }
            System.arraycopy(segVerdict, 4 * s, verdicts, 4 * segFirst[s], 4);
            DeviceKvSlot slot = (DeviceKvSlot) batch.cache(s);
            slot.keptOnDevice(slot.length() + segVerdict[4 * s + 3], segVerdict[4 * s] + 1);
        }
    }

    @Override
    public void close() {
        for (long p : new long[]{verdictDev, keepDev, stopDev}) {
            d.free(p);
        }
        hSeg.close();
        hVerdict.close();
    }
}
