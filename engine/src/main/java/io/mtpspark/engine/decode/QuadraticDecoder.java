package io.mtpspark.engine.decode;

import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.BlockLocalMask;
import io.mtpspark.engine.llama.BlockForward;
import io.mtpspark.engine.mtp.Drafter;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.SamplerHeadDrafter;

/**
 * Quadratic decoding (spec §5.3): d+1 groups {@code [r_g, m_1..m_k]} with r_0 the bonus and r_g = d_g, so whatever
 * prefix is accepted, the masks of group a saw exactly the accepted tokens and give k fresh drafts. Positions: r_g at
 * P+g, mask j of group g at P+g+j. Attention inside the block: r_g sees r_0..r_g; mask j of group g sees r_0..r_g
 * and masks 1..j of its own group. (k+1)² rows per step at full size.
 */
public final class QuadraticDecoder extends MtpDecoder {
    private final int[] keep;

    public QuadraticDecoder(BlockForward forward, MtpAdapter adapter, int k) {
        this(forward, adapter, k, new SamplerHeadDrafter(forward.model(), adapter, forward.backend()));
    }

    public QuadraticDecoder(BlockForward forward, MtpAdapter adapter, int k, Drafter drafter) {
        this(forward, adapter, k, drafter, 1);
    }

    /** {@code batchSize} sequences at once; each gets {@code forward.maxRows() / batchSize} rows. */
    public QuadraticDecoder(BlockForward forward, MtpAdapter adapter, int k, Drafter drafter, int batchSize) {
        super(forward, adapter, k, drafter, batchSize, (k + 1) * (k + 1));
        this.keep = new int[k + 1];
    }

    @Override
    public String name() {
        return "quadratic";
    }

    @Override
    protected int blockRows(int d, int m) {
        return (d + 1) * (m + 1);
    }

    @Override
    protected AttentionMask layout(MtpSequence s, int r0, int[] drafts, int d, int m, int p) {
        int g1 = m + 1;
        int n = (d + 1) * g1;
        if (s.localMask == null) {
            s.localMask = new BlockLocalMask(s.rows);
        }
        BlockLocalMask mask = s.localMask;
        mask.resize(n);
        int[] tokens = s.tokens;
        int[] positions = s.positions;
        boolean[] gate = s.gate;
        for (int g = 0; g <= d; g++) {
            int base = g * g1;
            tokens[base] = g == 0 ? r0 : drafts[g - 1];
            positions[base] = p + g;
            gate[base] = false;
            s.realRows[g] = base;
            for (int j = 1; j <= m; j++) {
                tokens[base + j] = MtpAdapter.maskId(vocab, j);
                positions[base + j] = p + g + j;
                gate[base + j] = true;
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

    @Override
    protected void commitKv(MtpSequence s, int p, int a) {
        for (int g = 0; g <= a; g++) {
            keep[g] = g * (s.masks + 1);
        }
        s.cache.compact(p, keep, a + 1);
    }

    @Override
    protected int nextDraftRow(int a, int d, int m) {
        return m == 0 ? -1 : a * (m + 1) + 1;
    }
}
