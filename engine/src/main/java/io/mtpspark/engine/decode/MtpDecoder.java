package io.mtpspark.engine.decode;

import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.BlockBatch;
import io.mtpspark.engine.llama.BlockLocalMask;
import io.mtpspark.engine.llama.BlockForward;
import io.mtpspark.engine.llama.GreedyVerdicts;
import io.mtpspark.engine.mtp.Drafter;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.sampling.Sampler;

import java.util.Arrays;

/**
 * Speculative decoding with mask tokens (spec §5), shared by the linear and quadratic layouts. State of a sequence
 * between steps: the cache holds committed tokens [0, P); {@code r0}, the newest committed token, is not cached yet;
 * up to k drafts guess the tokens after it. Each step runs one block holding r0, the drafts and mask tokens, verifies
 * the drafts by <b>prefix</b> acceptance against the base model's own predictions at the real rows (the first
 * mismatch ends acceptance, whatever follows), emits the accepted drafts plus the bonus token, keeps only the
 * accepted real rows' K/V and drafts anew from the masks that saw only accepted tokens.
 *
 * <p>Greedy decoding is exact: real rows never see masks and carry no LoRA, so their logits are the base model's,
 * a draft is accepted only when it equals the base argmax, and the bonus is the base argmax. With temperature > 0,
 * drafts (one-hot proposals) are accepted with probability p(d) and a rejection samples from p with d removed,
 * which preserves the base model's sampling distribution.
 */
public abstract class MtpDecoder extends Decoder {
    protected final MtpAdapter adapter;
    protected final int k;
    private final Drafter drafter;
    private final float[] dist;
    private final int[] verified;

    /**
     * @param fullBlockRows rows of this layout's block with k drafts and k masks (the most a step uses)
     */
    protected MtpDecoder(BlockForward forward, MtpAdapter adapter, int k, Drafter drafter, int batchSize,
                         int fullBlockRows) {
        super(forward, batchSize, checkK(adapter, k, fullBlockRows));
        this.adapter = adapter;
        this.k = k;
        this.drafter = drafter;
        this.dist = new float[vocab];
        this.verified = new int[k + 1];
    }

    private static int checkK(MtpAdapter adapter, int k, int fullBlockRows) {
        if (k < 1 || k > adapter.k()) {
            throw new IllegalArgumentException("k " + k + " outside 1.." + adapter.k() + " of the adapter");
        }
        return fullBlockRows;
    }

    @Override
    protected MtpAdapter adapter() {
        return adapter;
    }

    @Override
    protected Sequence newSequence(int cacheCapacity, int rows) {
        return new MtpSequence(cacheCapacity, rows);
    }

    /** Rows of a block with {@code d} drafts and {@code m} masks per mask group. */
    protected abstract int blockRows(int d, int m);

    /**
     * Lays out one step's block of sequence {@code s} after {@code p} committed positions: fills its tokens,
     * positions, gate and {@code realRows} (row of r_g for g = 0..d) and returns the attention mask to use.
     */
    protected abstract AttentionMask layout(MtpSequence s, int r0, int[] drafts, int d, int m, int p);

    /** Keeps the K/V of r_0..r_a (the first a+1 real rows) at slots p..p+a and drops the rest of the block. */
    protected abstract void commitKv(MtpSequence s, int p, int a);

    /** First mask row whose latents drafts the next step after accepting a of d drafts, or -1 if none is valid. */
    protected abstract int nextDraftRow(int a, int d, int m);

    /** One sequence's speculative state and block buffers. */
    protected final class MtpSequence extends Sequence {
        final int[] tokens;
        final int[] positions;
        final boolean[] gate;
        final int[] realRows = new int[k + 1];
        private final int[] drafts = new int[k];
        private final long[] acceptHistogram = new long[k + 1];
        private final long[] proposed = new long[k];
        private final long[] accepted = new long[k];
        BlockLocalMask localMask; // for layouts that need one; made on first use
        int masks;                // masks per group in the current block
        private int nDrafts;
        private int r0;
        private int start;        // prompt tokens already prefilled
        private int chunk;        // > 0 while the planned block is a plain prompt chunk
        private boolean prompted; // the prompt's last block (with masks) has been run
        private boolean lastPrefill;
        private int promptMasks;
        private int drafted;      // drafts in the planned step
        private int p;            // committed positions before the planned step

        MtpSequence(int cacheCapacity, int rows) {
            super(cacheCapacity, rows);
            tokens = new int[rows];
            positions = new int[rows];
            gate = new boolean[rows];
        }

        @Override
        protected void reset() {
            start = 0;
            chunk = 0;
            prompted = false;
            lastPrefill = false;
            nDrafts = 0;
            Arrays.fill(acceptHistogram, 0);
            Arrays.fill(proposed, 0);
            Arrays.fill(accepted, 0);
        }

        @Override
        protected boolean plan(BlockBatch batch) {
            if (maxTokens == 0) {
                return false;
            }
            int ctx = forward.maxContext();
            int n = promptIds.length;
            if (!prompted) {
                // prefill: the prompt with the k masks appended, causal, contiguous positions (spec §5.1); a prompt
                // longer than the block goes first in plain chunks
                promptMasks = Math.min(k, ctx - n);
                if (n - start + promptMasks > rows) {
                    chunk = Math.min(rows, n - start - 1);
                    for (int i = 0; i < chunk; i++) {
                        tokens[i] = promptIds[start + i];
                        positions[i] = start + i;
                    }
                    batch.add(tokens, positions, null, chunk, AttentionMask.CAUSAL, cache, null, 0);
                    return true;
                }
                int blockRows = n - start + promptMasks;
                for (int i = 0; i < blockRows; i++) {
                    boolean mask = start + i >= n;
                    tokens[i] = mask ? MtpAdapter.maskId(vocab, start + i - n + 1) : promptIds[start + i];
                    positions[i] = start + i;
                    gate[i] = mask;
                }
                realRows[0] = n - start - 1;
                lastPrefill = true;
                batch.add(tokens, positions, gate, blockRows, AttentionMask.CAUSAL, cache, realRows, 1);
                return true;
            }
            p = cache.length();
            if (p >= ctx) {
                return false; // context full: r0 cannot be processed
            }
            int d = nDrafts;
            int mm = k;
            int room = ctx - 1 - p; // positions up to p + d + mm must stay below ctx
            if (d + mm > room) {
                mm = Math.max(0, room - d);
                d = Math.min(d, room - mm);
            }
            drafted = d;
            masks = mm;
            AttentionMask mask = layout(this, r0, drafts, d, mm, p);
            batch.add(tokens, positions, gate, blockRows(d, mm), mask, cache, realRows, d + 1);
            return true;
        }

        @Override
        protected boolean consume(float[] logits, float[] hidden) {
            if (chunk > 0) {
                start += chunk;
                chunk = 0;
                return false;
            }
            if (lastPrefill) {
                lastPrefill = false;
                prompted = true;
                int n = promptIds.length;
                GreedyVerdicts v = deviceVerdicts(sampler);
                r0 = v != null ? v.token(logitBase) : sampler.sample(logits, logitBase * vocab, vocab);
                long s0 = System.nanoTime();
                drafter.draft(r0, n, hidden, rowBase + n - start, promptMasks, drafts);
                samplerNanos += System.nanoTime() - s0;
                nDrafts = promptMasks;
                cache.truncate(n);
                return emit(r0);
            }
            long b0 = System.nanoTime();
            int d = drafted;
            GreedyVerdicts v = deviceVerdicts(sampler);
            int a = v != null ? fromDevice(v, logitBase, d) : verify(sampler, logits, logitBase * vocab, d, drafts);
            for (int j = 0; j < d; j++) {
                proposed[j]++;
            }
            for (int j = 0; j < a; j++) {
                accepted[j]++;
            }
            acceptHistogram[a]++;
            boolean done = false;
            int emitting = v != null ? v.emitted(logitBase) : a + 1; // the device cuts after a stop token
            for (int j = 0; j < emitting && !done; j++) {
                done = emit(verified[j]);
            }
            if (v != null) {
                checkStopCut(emitting, a);
            }
            done |= emitting <= a;
            r0 = verified[a];
            commitKv(this, p, a);
            bookkeepingNanos += System.nanoTime() - b0;
            int row = done ? -1 : v != null ? v.nextDraftRow(logitBase) : nextDraftRow(a, d, masks);
            if (row >= 0) {
                long s0 = System.nanoTime();
                drafter.draft(r0, cache.length(), hidden, rowBase + row, masks, drafts);
                samplerNanos += System.nanoTime() - s0;
                nDrafts = masks;
            } else {
                nDrafts = 0;
            }
            return done;
        }

        @Override
        protected DecodeStats stats() {
            return new DecodeStats(name(), k, acceptHistogram.clone(), proposed.clone(), accepted.clone(),
                    forwardNanos, samplerNanos, bookkeepingNanos);
        }
    }

    /** The device's stop table must cut emission where this decoder's stop rule does (after the first stop). */
    private void checkStopCut(int emitting, int a) {
        int cut = a + 1;
        for (int j = 0; j <= a; j++) {
            if (stop.isStop(verified[j])) {
                cut = j + 1;
                break;
            }
        }
        if (cut != emitting) {
            throw new IllegalStateException("the device verifier emits " + emitting + " of " + (a + 1)
                    + " tokens, the stop rule " + cut + " (is its stop table StopRule.ids()?)");
        }
    }

    /** Copies the device's verdict for the segment at {@code logitBase} into {@link #verified}; returns a. */
    private int fromDevice(GreedyVerdicts v, int logitBase, int d) {
        int a = v.accepted(logitBase);
        if (a < 0 || a > d) {
            throw new IllegalStateException("device verifier accepted " + a + " of " + d + " drafts");
        }
        for (int j = 0; j <= a; j++) {
            verified[j] = v.token(logitBase + j);
        }
        return a;
    }

    /**
     * Verifies d drafts against the real rows' logits (row g, from {@code off}, belongs to r_g). Writes the accepted
     * drafts and then the bonus token into {@link #verified} and returns the number accepted.
     */
    private int verify(Sampler sampler, float[] logits, int off, int d, int[] drafts) {
        if (sampler.options().greedy()) {
            int a = 0;
            while (a < d) {
                int target = Sampler.argmax(logits, off + a * vocab, vocab);
                if (drafts[a] != target) {
                    verified[a] = target;
                    return a;
                }
                verified[a] = drafts[a];
                a++;
            }
            verified[d] = Sampler.argmax(logits, off + d * vocab, vocab);
            return d;
        }
        for (int g = 0; g <= d; g++) {
            sampler.distribution(logits, off + g * vocab, vocab, dist);
            if (g == d) {
                verified[g] = Sampler.draw(dist, vocab, sampler.nextUniform());
                return d;
            }
            int draft = drafts[g];
            float pd = dist[draft];
            if (sampler.nextUniform() < pd) {
                verified[g] = draft;
                continue;
            }
            // rejected: sample from p with the draft removed, renormalised (residual of a one-hot proposal)
            dist[draft] = 0f;
            float rest = 1f - pd;
            for (int i = 0; i < vocab; i++) {
                dist[i] /= rest;
            }
            verified[g] = Sampler.draw(dist, vocab, sampler.nextUniform());
            return g;
        }
        throw new IllegalStateException("unreachable");
    }
}
