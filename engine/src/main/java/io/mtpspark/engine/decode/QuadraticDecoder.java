package io.mtpspark.engine.decode;

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
    public QuadraticDecoder(BlockForward forward, MtpAdapter adapter, int k) {
        this(forward, adapter, k, new SamplerHeadDrafter(forward.model(), adapter, forward.backend()));
    }

    public QuadraticDecoder(BlockForward forward, MtpAdapter adapter, int k, Drafter drafter) {
        this(forward, adapter, k, drafter, 1);
    }

    /** {@code batchSize} sequences at once; each gets {@code forward.maxRows() / batchSize} rows. */
    public QuadraticDecoder(BlockForward forward, MtpAdapter adapter, int k, Drafter drafter, int batchSize) {
        super(forward, adapter, new DecodeConfig(BlockLayout.QUADRATIC, k), drafter, batchSize);
    }

    @Override
    public String name() {
        return "quadratic";
    }
}
