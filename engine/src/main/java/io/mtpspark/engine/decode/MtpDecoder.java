package io.mtpspark.engine.decode;

import io.mtpspark.engine.kvcache.KvCache;
import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.mtp.Drafter;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.sampling.Sampler;
import io.mtpspark.engine.sampling.SamplingOptions;

import java.util.Arrays;

/**
 * Speculative decoding with mask tokens (spec §5), shared by the linear and quadratic layouts. State between steps:
 * the cache holds committed tokens [0, P); {@code r0}, the newest committed token, is not cached yet; up to k drafts
 * guess the tokens after it. Each step runs one block forward holding r0, the drafts and mask tokens, verifies the
 * drafts by <b>prefix</b> acceptance against the base model's own predictions at the real rows (the first mismatch
 * ends acceptance, whatever follows), emits the accepted drafts plus the bonus token, keeps only the accepted real
 * rows' K/V and drafts anew from the masks that saw only accepted tokens.
 *
 * <p>Greedy decoding is exact: real rows never see masks and carry no LoRA, so their logits are the base model's,
 * a draft is accepted only when it equals the base argmax, and the bonus is the base argmax. With temperature > 0,
 * drafts (one-hot proposals) are accepted with probability p(d) and a rejection samples from p with d removed,
 * which preserves the base model's sampling distribution.
 */
public abstract class MtpDecoder implements Decoder {
    protected final LlamaForward forward;
    protected final MtpAdapter adapter;
    protected final int k;
    protected final KvCache cache;
    protected final int vocab;
    private final Drafter drafter;
    private final StopRule stop;

    // block buffers, reused every step
    protected final int[] tokens;
    protected final int[] positions;
    protected final boolean[] gate;
    protected final int[] realRows;
    private final int[] drafts;
    private final float[] dist;
    private final int[] verified;
    private int[] out = new int[0];
    private int produced;
    private int maxTokens;

    protected MtpDecoder(LlamaForward forward, MtpAdapter adapter, int k, Drafter drafter) {
        if (k < 1 || k > adapter.k()) {
            throw new IllegalArgumentException("k " + k + " outside 1.." + adapter.k() + " of the adapter");
        }
        LlamaConfig c = forward.model().config();
        this.forward = forward;
        this.adapter = adapter;
        this.k = k;
        this.drafter = drafter;
        this.vocab = c.vocabSize();
        this.stop = StopRule.of(c);
        this.cache = new KvCache(c, forward.maxContext() + forward.maxRows());
        int rows = forward.maxRows();
        tokens = new int[rows];
        positions = new int[rows];
        gate = new boolean[rows];
        realRows = new int[k + 1];
        drafts = new int[k];
        dist = new float[vocab];
        verified = new int[k + 1];
        if (blockRows(k, k) > rows) {
            throw new IllegalArgumentException(name() + " decoding with k=" + k + " needs blocks of " + blockRows(k, k)
                    + " rows; the forward holds " + rows);
        }
    }

    /** Rows of a block with {@code d} drafts and {@code m} masks per mask group. */
    protected abstract int blockRows(int d, int m);

    /**
     * Lays out one step's block after {@code p} committed positions: fills tokens, positions, gate and
     * {@link #realRows} (row of r_g for g = 0..d) and returns the attention mask to use.
     */
    protected abstract AttentionMask layout(int r0, int[] drafts, int d, int m, int p);

    /** Keeps the K/V of r_0..r_a (the first a+1 real rows) at slots p..p+a and drops the rest of the block. */
    protected abstract void commitKv(int p, int a);

    /** First mask row whose latents drafts the next step after accepting a of d drafts, or -1 if none is valid. */
    protected abstract int nextDraftRow(int a, int d, int m);

    @Override
    public GenerationResult generate(int[] promptIds, int maxTokens, SamplingOptions sampling) {
        AutoregressiveDecoder.checkPrompt(promptIds, forward.maxContext());
        Sampler sampler = new Sampler(sampling, vocab);
        DecodeStats stats = DecodeStats.empty(name(), k);
        long forwardNanos = 0;
        long samplerNanos = 0;
        long t0 = System.nanoTime();
        this.maxTokens = Math.max(0, maxTokens);
        if (out.length < this.maxTokens) {
            out = new int[this.maxTokens];
        }
        produced = 0;
        int passes = 0;
        cache.truncate(0);
        FinishReason reason = FinishReason.LENGTH;
        long t1 = t0;
        if (this.maxTokens == 0) {
            return finish(promptIds, reason, passes, 0, 0, stats, 0, 0, 0);
        }
        // prefill: the prompt with the k masks appended, causal, contiguous positions (spec §5.1)
        int n = promptIds.length;
        int ctx = forward.maxContext();
        int m = Math.min(k, ctx - n);
        int maxRows = forward.maxRows();
        int start = 0;
        while (n - start + m > maxRows) {
            int chunk = Math.min(maxRows, n - start - 1);
            for (int i = 0; i < chunk; i++) {
                tokens[i] = promptIds[start + i];
                positions[i] = start + i;
            }
            forward.forward(tokens, positions, chunk, AttentionMask.CAUSAL, cache, null, 0);
            passes++;
            start += chunk;
        }
        int rows = n - start + m;
        for (int i = 0; i < rows; i++) {
            boolean mask = start + i >= n;
            tokens[i] = mask ? MtpAdapter.maskId(vocab, start + i - n + 1) : promptIds[start + i];
            positions[i] = start + i;
            gate[i] = mask;
        }
        realRows[0] = n - start - 1;
        long f0 = System.nanoTime();
        forward.forward(tokens, positions, rows, AttentionMask.CAUSAL, cache, realRows, 1, gate, adapter);
        forwardNanos += System.nanoTime() - f0;
        passes++;
        int r0 = sampler.sample(forward.logits(), 0, vocab);
        long s0 = System.nanoTime();
        drafter.draft(r0, n, forward.hidden(), n - start, m, drafts);
        samplerNanos += System.nanoTime() - s0;
        int nDrafts = m;
        cache.truncate(n);
        t1 = System.nanoTime();
        boolean done = emit(r0);
        long bookkeeping = 0;
        while (!done) {
            int p = cache.length();
            if (p >= ctx) {
                break; // context full: r0 cannot be processed
            }
            int d = nDrafts;
            int mm = k;
            int room = ctx - 1 - p; // positions up to p + d + mm must stay below ctx
            if (d + mm > room) {
                mm = Math.max(0, room - d);
                d = Math.min(d, room - mm);
            }
            AttentionMask mask = layout(r0, drafts, d, mm, p);
            int blockRows = blockRows(d, mm);
            f0 = System.nanoTime();
            forward.forward(tokens, positions, blockRows, mask, cache, realRows, d + 1, gate, adapter);
            forwardNanos += System.nanoTime() - f0;
            passes++;
            long b0 = System.nanoTime();
            int a = verify(sampler, d, drafts);
            for (int j = 0; j < d; j++) {
                stats.draftsProposed()[j]++;
            }
            for (int j = 0; j < a; j++) {
                stats.draftsAccepted()[j]++;
            }
            stats.acceptHistogram()[a]++;
            for (int j = 0; j <= a && !done; j++) {
                done = emit(verified[j]);
            }
            int bonus = verified[a];
            commitKv(p, a);
            bookkeeping += System.nanoTime() - b0;
            r0 = bonus;
            int row = done ? -1 : nextDraftRow(a, d, mm);
            if (row >= 0) {
                s0 = System.nanoTime();
                drafter.draft(r0, cache.length(), forward.hidden(), row, mm, drafts);
                samplerNanos += System.nanoTime() - s0;
                nDrafts = mm;
            } else {
                nDrafts = 0;
            }
        }
        if (produced > 0 && stop.isStop(out[produced - 1])) {
            reason = FinishReason.STOP;
        }
        long t2 = System.nanoTime();
        return finish(promptIds, reason, passes, t1 - t0, t2 - t1, stats, forwardNanos, samplerNanos, bookkeeping);
    }

    private GenerationResult finish(int[] promptIds, FinishReason reason, int passes, long prefill, long decode,
                                    DecodeStats s, long forwardNanos, long samplerNanos, long bookkeeping) {
        DecodeStats stats = new DecodeStats(s.decoder(), s.k(), s.acceptHistogram(), s.draftsProposed(),
                s.draftsAccepted(), forwardNanos, samplerNanos, bookkeeping);
        return new GenerationResult(promptIds.clone(), Arrays.copyOf(out, produced), reason, passes, prefill, decode,
                stats);
    }

    /** Appends a token; returns true when generation must end (stop token or token budget). */
    private boolean emit(int token) {
        out[produced++] = token;
        return stop.isStop(token) || produced >= maxTokens;
    }

    /**
     * Verifies d drafts against the real rows' logits (row g of {@code forward.logits()} belongs to r_g). Writes the
     * accepted drafts and then the bonus token into {@link #verified} and returns the number accepted.
     */
    private int verify(Sampler sampler, int d, int[] drafts) {
        float[] logits = forward.logits();
        if (sampler.options().greedy()) {
            int a = 0;
            while (a < d) {
                int target = Sampler.argmax(logits, a * vocab, vocab);
                if (drafts[a] != target) {
                    verified[a] = target;
                    return a;
                }
                verified[a] = drafts[a];
                a++;
            }
            verified[d] = Sampler.argmax(logits, d * vocab, vocab);
            return d;
        }
        for (int g = 0; g <= d; g++) {
            sampler.distribution(logits, g * vocab, vocab, dist);
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
