package io.mtpspark.engine.decode;

import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.BlockForward;
import io.mtpspark.engine.mtp.Drafter;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.SamplerHeadDrafter;

/**
 * Linear decoding (spec §5.2), the paper's baseline: block {@code [r_0, d_1..d_d, m_1..m_k]} at positions P..P+d+k,
 * plain causal attention (the masks come last, so no real row sees them). Fresh drafts exist only when every draft
 * was accepted (the trailing masks then saw only accepted tokens); otherwise the next step has no drafts and runs
 * {@code [bonus, m_1..m_k]}.
 */
public final class LinearDecoder extends MtpDecoder {

    public LinearDecoder(BlockForward forward, MtpAdapter adapter, int k) {
        this(forward, adapter, k, new SamplerHeadDrafter(forward.model(), adapter, forward.backend()));
    }

    public LinearDecoder(BlockForward forward, MtpAdapter adapter, int k, Drafter drafter) {
        this(forward, adapter, k, drafter, 1);
    }

    /** {@code batchSize} sequences at once; each gets {@code forward.maxRows() / batchSize} rows. */
    public LinearDecoder(BlockForward forward, MtpAdapter adapter, int k, Drafter drafter, int batchSize) {
        super(forward, adapter, k, drafter, batchSize, 2 * k + 1);
    }

    @Override
    public String name() {
        return "linear";
    }

    @Override
    protected int blockRows(int d, int m) {
        return d + 1 + m;
    }

    @Override
    protected AttentionMask layout(MtpSequence s, int r0, int[] drafts, int d, int m, int p) {
        int[] tokens = s.tokens;
        int[] positions = s.positions;
        boolean[] gate = s.gate;
        for (int g = 0; g <= d; g++) {
            tokens[g] = g == 0 ? r0 : drafts[g - 1];
            positions[g] = p + g;
            gate[g] = false;
            s.realRows[g] = g;
        }
        for (int j = 1; j <= m; j++) {
            tokens[d + j] = MtpAdapter.maskId(vocab, j);
            positions[d + j] = p + d + j;
            gate[d + j] = true;
        }
        return AttentionMask.CAUSAL;
    }

    @Override
    protected void commitKv(MtpSequence s, int p, int a) {
        s.cache.truncate(p + a + 1); // real rows come first, so the accepted ones are already contiguous
    }

    @Override
    protected int nextDraftRow(int a, int d, int m) {
        return a == d && m > 0 ? d + 1 : -1;
    }
}
