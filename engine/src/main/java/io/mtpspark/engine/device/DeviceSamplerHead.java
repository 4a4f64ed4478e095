package io.mtpspark.engine.device;

import io.mtpspark.engine.llama.BlockBatch;
import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.mtp.Drafter;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.SamplerHead;
import io.mtpspark.engine.tensor.WeightTensor;

import java.nio.IntBuffer;

/**
 * The sampler head (spec §3) on the device, queued by {@link DeviceForward} after {@link DeviceVerifier} in the same
 * step: for every sequence at once, pass j builds {@code [E[prev] ; z(mask j)]} from the verifier's next draft row
 * ({@code sampler_input}), runs fc1, SiLU + RMSNorm, fc2, SiLU + RMSNorm (+ h1), the LM head and argmax, and the next
 * pass records the draft; no hidden state or logits cross to the host, only the drafts. Its {@link #drafter()} hands
 * them to the decoders as a {@link Drafter}, checking that the host asks for the drafts the device made.
 */
final class DeviceSamplerHead implements AutoCloseable {
    private final DeviceApi d;
    private final DeviceModel dm;
    private final MtpAdapter adapter;
    private final LlamaConfig c;
    private final ElementType act;
    private final int segmentsMax;
    private final int maxDrafts;
    private final long fc1;
    private final long fc2;
    private final long norm1;
    private final long norm2;
    private final long input;
    private final long h1;
    private final long h1Act;
    private final long h2;
    private final long h2Act;
    private final long logits;
    private final long passArgmax;
    private final long draftsDev;
    private final long countsDev;
    private final HostBuffer hDrafts;
    private final int[] drafts;
    private final int[] counts;
    private final int[] firstRow; // batch row of each segment's first drafting mask row, -1 if none
    private final int[] bonus;
    private int segments;
    private final int kInput;
    private final int kNorm;
    private final int kArgmax;
    private final LaunchArgs args = new LaunchArgs(20);
    private long launches;

    DeviceSamplerHead(DeviceModel dm, MtpAdapter adapter, int segmentsMax) {
        this.d = dm.device();
        this.dm = dm;
        this.adapter = adapter;
        this.c = dm.model().config();
        this.act = dm.type();
        this.segmentsMax = segmentsMax;
        this.maxDrafts = adapter.k();
        int dim = c.dim();
        SamplerHead head = adapter.sampler();
        fc1 = d.malloc((long) dim * 2 * dim * act.bytes());
        fc2 = d.malloc((long) dim * dim * act.bytes());
        norm1 = d.malloc(4L * dim);
        norm2 = d.malloc(4L * dim);
        dm.upload(WeightTensor.ofFloats(head.fc1(), dim, 2 * dim), fc1);
        dm.upload(WeightTensor.ofFloats(head.fc2(), dim, dim), fc2);
        dm.uploadF32(head.norm1(), norm1);
        dm.uploadF32(head.norm2(), norm2);
        input = d.malloc((long) segmentsMax * 2 * dim * act.bytes());
        h1 = d.malloc(4L * segmentsMax * dim);
        h1Act = d.malloc((long) segmentsMax * dim * act.bytes());
        h2 = d.malloc(4L * segmentsMax * dim);
        h2Act = d.malloc((long) segmentsMax * dim * act.bytes());
        logits = d.malloc(4L * segmentsMax * c.vocabSize());
        passArgmax = d.malloc(4L * segmentsMax);
        draftsDev = d.malloc(4L * segmentsMax * (maxDrafts + 1));
        countsDev = draftsDev + 4L * segmentsMax * maxDrafts;
        hDrafts = d.pinned(4L * segmentsMax * (maxDrafts + 1));
        drafts = new int[segmentsMax * maxDrafts];
        counts = new int[segmentsMax];
        firstRow = new int[segmentsMax];
        bonus = new int[segmentsMax];
        kInput = d.kernel("sampler_input");
        kNorm = d.kernel("sampler_norm");
        kArgmax = d.kernel("argmax_rows");
        d.sync();
    }

    MtpAdapter adapter() {
        return adapter;
    }

    /** The device drafts, {@code [segments][maxDrafts()]} then the counts. */
    long draftsDevice() {
        return draftsDev;
    }

    int maxDrafts() {
        return maxDrafts;
    }

    /** Draft {@code j} of segment {@code s} of the last step (after {@link #finish}). */
    int draft(int s, int j) {
        return drafts[s * maxDrafts + j];
    }

    /** Launches plus GEMMs of the last step's drafting. */
    long launches() {
        return launches;
    }

    /** The draft passes {@code batch} needs: the longest run of mask rows in a segment, at most k. */
    int passes(BlockBatch batch) {
        int vocab = c.vocabSize();
        int passes = 0;
        for (int s = 0; s < batch.segments(); s++) {
            int run = 0;
            for (int r = batch.segmentStart(s); r < batch.segmentStart(s + 1); r++) {
                run = batch.token(r) >= vocab ? run + 1 : 0;
                passes = Math.max(passes, run);
            }
        }
        return Math.min(passes, maxDrafts);
    }

    /**
     * Queues {@code passes} draft passes for {@code segments} segments (padded ones included, which draft nothing)
     * after the verifier ({@code segLogits}, {@code verdict} on the device); {@code hidden} holds the final-norm rows
     * of the batch. Only pointers and shape-fixed values are passed, so the launches can be captured into a graph.
     */
    void enqueue(int segments, int passes, long hidden, long descTokens, long descSeg, long segLogits, long verdict,
                 long argmax, int threads) {
        int vocab = c.vocabSize();
        int dim = c.dim();
        int a = act.code();
        launches = 0;
        for (int pass = 0; pass <= passes; pass++) {
            d.launch(kInput, segments, 1, 1, threads, args.reset().ptr(input).i32(a).ptr(dm.embedding()).i32(a)
                    .ptr(hidden).ptr(descSeg).ptr(segLogits).ptr(verdict).ptr(argmax).ptr(descTokens).i32(vocab)
                    .ptr(passArgmax).ptr(draftsDev).ptr(countsDev).i32(maxDrafts).i32(pass).i32(passes).i32(dim));
            launches++;
            if (pass == passes) {
                break;
            }
            gemm(h1, fc1, input, segments, 2 * dim, dim);
            d.launch(kNorm, segments, 1, 1, threads, args.reset().ptr(h1).ptr(h1Act).i32(a).ptr(h1).ptr(norm1)
                    .ptr(h1).i32(0).i32(dim).f32(c.rmsNormEps()));
            gemm(h2, fc2, h1Act, segments, dim, dim);
            d.launch(kNorm, segments, 1, 1, threads, args.reset().ptr(h2).ptr(h2Act).i32(a).ptr(h2).ptr(norm2)
                    .ptr(h1).i32(adapter.sampler().options().residual() ? 1 : 0).i32(dim).f32(c.rmsNormEps()));
            gemm(logits, dm.classifier(), h2Act, segments, dim, vocab);
            d.launch(kArgmax, segments, 1, 1, 256, args.reset().ptr(logits).i32(segments).i32(vocab)
                    .ptr(passArgmax));
            launches += 6;
        }
    }

    /** Queues the copy of the drafts and counts to the host (after the step's launches). */
    void copyBack() {
        d.copyToHost(hDrafts, 0, draftsDev, 4L * segmentsMax * (maxDrafts + 1));
    }

    /** Row-major {@code out[s] = w · in[s]} for every segment row, w as {@code [outDim][inDim]} (DeviceForward's). */
    private void gemm(long out, long w, long in, int rows, int inDim, int outDim) {
        d.gemm(true, false, outDim, rows, inDim, 1f, w, act, inDim, in, act, inDim, 0f, out, ElementType.F32,
                outDim);
    }

    /** Forgets the last step's drafts (a step without mask rows drafts nothing). */
    void clear() {
        segments = 0;
        launches = 0;
    }

    /** After the step's sync: the drafts by segment, found later by their first mask row. */
    void finish(BlockBatch batch, int[] verdicts, int[] segFirstLogit, int[] tokens) {
        segments = batch.segments();
        IntBuffer h = hDrafts.bytes().asIntBuffer();
        h.get(0, drafts, 0, segmentsMax * maxDrafts);
        h.get(segmentsMax * maxDrafts, counts, 0, segmentsMax);
        for (int s = 0; s < segments; s++) {
            int row = verdicts[4 * s + 2];
            firstRow[s] = counts[s] > 0 ? batch.segmentStart(s) + row : -1;
            bonus[s] = counts[s] > 0 ? tokens[segFirstLogit[s] + verdicts[4 * s]] : -1;
        }
    }

    /** The decoders' view: the device's drafts of the last step for the mask row the decoder names. */
    Drafter drafter() {
        return (previous, previousPosition, hidden, first, count, out) -> {
            for (int s = 0; s < segments; s++) {
                if (firstRow[s] == first) {
                    if (count > counts[s] || previous != bonus[s]) {
                        throw new IllegalStateException("the decoder asks for " + count + " drafts after token "
                                + previous + " from row " + first + "; the device drafted " + counts[s] + " after "
                                + bonus[s]);
                    }
                    System.arraycopy(drafts, s * maxDrafts, out, 0, count);
                    return;
                }
            }
            throw new IllegalStateException("the device drafted nothing from batch row " + first
                    + " (is the forward drafting on the device for this decoder's adapter?)");
        };
    }

    @Override
    public void close() {
        for (long p : new long[]{fc1, fc2, norm1, norm2, input, h1, h1Act, h2, h2Act, logits, passArgmax,
                draftsDev}) {
            d.free(p);
        }
        hDrafts.close();
    }
}
