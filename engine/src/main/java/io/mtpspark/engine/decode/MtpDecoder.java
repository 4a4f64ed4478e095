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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
    /** The most masks a step may use (the adapter's K or less). */
    protected final int k;
    private final Drafter drafter;
    private final List<DecodeConfig> configs;
    private final float[] dist;
    private final int[] verified;
    private final int[] keep;
    private DecodeConfig current;
    private int currentIndex;

    /** A decoder that runs {@code config} for every step. */
    protected MtpDecoder(BlockForward forward, MtpAdapter adapter, DecodeConfig config, Drafter drafter,
                         int batchSize) {
        this(forward, adapter, List.of(config), drafter, batchSize);
    }

    /**
     * A decoder whose steps may run any of {@code configs} (each step one of them for every sequence, chosen with
     * {@link #use}; the first until then). Switching is exact: the state between steps (committed tokens in the
     * cache, the newest token r0 not yet cached, drafts for the positions after it) means the same to every layout,
     * so a step drops the drafts it has no room for and lays out the rest its own way.
     */
    protected MtpDecoder(BlockForward forward, MtpAdapter adapter, List<DecodeConfig> configs, Drafter drafter,
                         int batchSize) {
        super(forward, batchSize, checkConfigs(adapter, configs));
        this.adapter = adapter;
        this.k = configs.stream().mapToInt(DecodeConfig::k).max().orElse(0);
        this.drafter = drafter;
        this.configs = List.copyOf(configs);
        this.dist = new float[vocab];
        this.verified = new int[k + 1];
        this.keep = new int[k + 1];
        this.current = configs.get(0);
    }

    private static int checkConfigs(MtpAdapter adapter, List<DecodeConfig> configs) {
        if (configs.isEmpty()) {
            throw new IllegalArgumentException("no decoder configuration");
        }
        int rows = 1;
        for (DecodeConfig c : configs) {
            if (c.k() > adapter.k()) {
                throw new IllegalArgumentException("k " + c.k() + " outside 1.." + adapter.k() + " of the adapter");
            }
            rows = Math.max(rows, c.fullRows());
        }
        return rows;
    }

    @Override
    public int k() {
        return k;
    }

    /** The configurations steps may run, in the order {@link #use} indexes them. */
    public List<DecodeConfig> configs() {
        return configs;
    }

    /** The configuration the next step runs. */
    public DecodeConfig current() {
        return current;
    }

    /** Index of {@link #current()} in {@link #configs()}. */
    protected final int currentIndex() {
        return currentIndex;
    }

    /** Runs the next steps (of every sequence) with {@code configs().get(index)}. */
    protected final void use(int index) {
        currentIndex = index;
        current = configs.get(index);
    }

    @Override
    protected MtpAdapter adapter() {
        // a step of single rows uses no mask token and no LoRA row: it is a plain forward
        return current.autoregressive() ? null : adapter;
    }

    @Override
    protected Sequence newSequence(int cacheCapacity, int rows) {
        return new MtpSequence(cacheCapacity, rows);
    }

    /**
     * Lays out one step's block of sequence {@code s} after {@code p} committed positions: fills its tokens,
     * positions, gate and {@code realRows} (row of r_g for g = 0..d) and returns the attention mask to use. A block
     * without drafts and masks is the autoregressive step {@code [r0]}.
     */
    private AttentionMask layout(BlockLayout l, MtpSequence s, int r0, int[] drafts, int d, int m, int p) {
        if (l != BlockLayout.QUADRATIC) {
            return linearLayout(s, r0, drafts, d, m, p);
        }
        return quadraticLayout(s, r0, drafts, d, m, p);
    }

    /** {@code [r_0, d_1..d_d, m_1..m_k]} at positions P..P+d+k, plain causal (the masks come last). */
    private AttentionMask linearLayout(MtpSequence s, int r0, int[] drafts, int d, int m, int p) {
        for (int g = 0; g <= d; g++) {
            s.tokens[g] = g == 0 ? r0 : drafts[g - 1];
            s.positions[g] = p + g;
            s.gate[g] = false;
            s.realRows[g] = g;
        }
        for (int j = 1; j <= m; j++) {
            s.tokens[d + j] = MtpAdapter.maskId(vocab, j);
            s.positions[d + j] = p + d + j;
            s.gate[d + j] = true;
        }
        return AttentionMask.CAUSAL;
    }

    /**
     * d+1 groups {@code [r_g, m_1..m_k]}: r_g at P+g, mask j of group g at P+g+j; r_g sees r_0..r_g, mask j of group
     * g sees r_0..r_g and masks 1..j of its own group.
     */
    private AttentionMask quadraticLayout(MtpSequence s, int r0, int[] drafts, int d, int m, int p) {
        int g1 = m + 1;
        int n = (d + 1) * g1;
        if (s.localMask == null) {
            s.localMask = new BlockLocalMask(s.rows);
        }
        BlockLocalMask mask = s.localMask;
        mask.resize(n);
        for (int g = 0; g <= d; g++) {
            int base = g * g1;
            s.tokens[base] = g == 0 ? r0 : drafts[g - 1];
            s.positions[base] = p + g;
            s.gate[base] = false;
            s.realRows[g] = base;
            for (int j = 1; j <= m; j++) {
                s.tokens[base + j] = MtpAdapter.maskId(vocab, j);
                s.positions[base + j] = p + g + j;
                s.gate[base + j] = true;
            }
        }
        for (int q = 0; q < n; q++) {
            int gq = q / g1;
            int sq = q % g1;
            for (int key = 0; key < n; key++) {
                int gk = key / g1;
                int sk = key % g1;
                // real keys: causal over groups; mask keys: own group, up to the query (real queries see no masks)
                mask.set(q, key, sk == 0 ? gk <= gq : gk == gq && sq >= sk);
            }
        }
        return mask;
    }

    /** Keeps the K/V of r_0..r_a (the first a+1 real rows) at slots p..p+a and drops the rest of the block. */
    private void commitKv(BlockLayout l, MtpSequence s, int p, int a) {
        if (l != BlockLayout.QUADRATIC) {
            s.cache.truncate(p + a + 1); // real rows come first, so the accepted ones are already contiguous
            return;
        }
        for (int g = 0; g <= a; g++) {
            keep[g] = g * (s.masks + 1);
        }
        s.cache.compact(p, keep, a + 1);
    }

    /** First mask row whose latents draft the next step after accepting a of d drafts, or -1 if none is valid. */
    private static int nextDraftRow(BlockLayout l, int a, int d, int m) {
        if (m == 0) {
            return -1;
        }
        if (l != BlockLayout.QUADRATIC) {
            // linear: the trailing masks saw only accepted tokens only when every draft was accepted
            return a == d ? d + 1 : -1;
        }
        return a * (m + 1) + 1;
    }

    /**
     * Called after each pass of a sequence that emitted tokens: {@code tokens} emitted by a pass of
     * {@code configs().get(configIndex)}, whose verification accepted {@code accepted} drafts; {@code fullDrafts}
     * when it verified as many drafts as that configuration's k (a pass that says how well drafts are accepted).
     * The pass emits fewer than {@code accepted + 1} tokens when the sequence's token budget or a stop ends it
     * there: that says nothing about acceptance, which {@code accepted} measures whatever cut the pass.
     */
    protected void observed(MtpSequence s, int configIndex, int tokens, int accepted, boolean fullDrafts) {
    }

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
        private final long[] configPasses = new long[configs.size()];
        BlockLocalMask localMask; // for layouts that need one; made on first use
        int masks;                // masks per group in the current block
        /** Per-sequence slot for a subclass's running estimate (the adaptive decoder's acceptance ratio). */
        double excessObserved;
        double excessPredicted;
        private long blockRows;
        private int nDrafts;
        private int r0;
        private int start;        // prompt tokens already prefilled
        private int chunk;        // > 0 while the planned block is a plain prompt chunk
        private boolean prompted; // the prompt's last block (with masks) has been run
        private boolean lastPrefill;
        private int promptMasks;
        private int drafted;      // drafts in the planned step
        private int p;            // committed positions before the planned step
        private DecodeConfig stepConfig;
        private int stepIndex;

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
            blockRows = 0;
            excessObserved = 0;
            excessPredicted = 0;
            Arrays.fill(acceptHistogram, 0);
            Arrays.fill(proposed, 0);
            Arrays.fill(accepted, 0);
            Arrays.fill(configPasses, 0);
        }

        @Override
        protected boolean prefilling() {
            return !prompted;
        }

        @Override
        protected boolean plan(BlockBatch batch) {
            if (maxTokens == 0) {
                return false;
            }
            stepConfig = current;
            stepIndex = currentIndex;
            configPasses[currentIndex]++;
            int kNow = stepConfig.k();
            int ctx = forward.maxContext();
            int n = promptIds.length;
            if (!prompted) {
                // prefill: the prompt with the k masks appended, causal, contiguous positions (spec §5.1); a prompt
                // longer than the block goes first in plain chunks
                promptMasks = Math.min(kNow, ctx - n);
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
            int d = Math.min(nDrafts, kNow); // drafts beyond this step's k are dropped: they are only proposals
            int mm = kNow;
            int room = ctx - 1 - p; // positions up to p + d + mm must stay below ctx
            if (d + mm > room) {
                mm = Math.max(0, room - d);
                d = Math.min(d, room - mm);
            }
            drafted = d;
            masks = mm;
            AttentionMask mask = layout(stepConfig.layout(), this, r0, drafts, d, mm, p);
            int n1 = stepConfig.layout().rows(d, mm);
            blockRows += n1;
            batch.add(tokens, positions, gate, n1, mask, cache, realRows, d + 1);
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
                if (promptMasks > 0) {
                    long s0 = System.nanoTime();
                    drafter.draft(r0, n, hidden, rowBase + n - start, promptMasks, drafts);
                    samplerNanos += System.nanoTime() - s0;
                }
                nDrafts = promptMasks;
                cache.truncate(n);
                observed(this, stepIndex, 1, 0, false);
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
            if (!stepConfig.autoregressive()) {
                acceptHistogram[a]++; // single-row steps are no MTP passes: they stay out of the histogram
            }
            boolean done = false;
            int emitted = 0;
            int emitting = v != null ? v.emitted(logitBase) : a + 1; // the device cuts after a stop token
            for (int j = 0; j < emitting && !done; j++) {
                done = emit(verified[j]);
                emitted++;
            }
            if (v != null) {
                checkStopCut(emitting, a);
            }
            done |= emitting <= a;
            r0 = verified[a];
            BlockLayout l = stepConfig.layout();
            commitKv(l, this, p, a);
            bookkeepingNanos += System.nanoTime() - b0;
            observed(this, stepIndex, emitted, a, d > 0 && d == stepConfig.k());
            int row = done ? -1 : v != null ? v.nextDraftRow(logitBase) : nextDraftRow(l, a, d, masks);
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
            Map<String, Long> byConfig = new LinkedHashMap<>();
            for (int i = 0; i < configPasses.length; i++) {
                if (configPasses[i] > 0) {
                    byConfig.put(configs.get(i).label(), configPasses[i]);
                }
            }
            return new DecodeStats(name(), k, acceptHistogram.clone(), proposed.clone(), accepted.clone(),
                    forwardNanos, samplerNanos, bookkeepingNanos, byConfig, blockRows);
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
