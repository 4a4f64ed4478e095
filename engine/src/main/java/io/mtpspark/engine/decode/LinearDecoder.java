package io.mtpspark.engine.decode;

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
        super(forward, adapter, new DecodeConfig(BlockLayout.LINEAR, k), drafter, batchSize);
    }

    @Override
    public String name() {
        return "linear";
    }
}
