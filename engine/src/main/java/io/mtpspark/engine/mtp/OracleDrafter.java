package io.mtpspark.engine.mtp;

import io.mtpspark.engine.decode.DecodeConfig;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.GenerationRequest;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.sampling.SamplingOptions;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A drafter that knows the future: it proposes each sequence's true greedy continuation, decoded autoregressively
 * beforehand, so every draft is accepted (acceptance = k). Only for benchmarks, to measure what full acceptance
 * buys on a backend (the paper's upper bound); it never serves generation. A sequence is recognised by the token it
 * last emitted and that token's position; two references sharing both there get the same drafts, which only costs
 * acceptance (a wrong draft is rejected by verification like any other), never exactness.
 */
public final class OracleDrafter implements Drafter {
    private final Map<Long, int[]> byPositionAndToken = new HashMap<>();

    /** @param references prompt followed by its greedy generation, one per sequence */
    public OracleDrafter(List<int[]> references) {
        for (int[] ref : references) {
            for (int p = 0; p < ref.length; p++) {
                byPositionAndToken.putIfAbsent(key(p, ref[p]), ref);
            }
        }
    }

    /** The references for {@code prompts}: each decoded greedily by {@code ar} to {@code maxTokens} tokens. */
    public static OracleDrafter decodedBy(Decoder ar, List<int[]> prompts, int maxTokens) {
        List<GenerationRequest> requests = new ArrayList<>();
        for (int[] p : prompts) {
            requests.add(new GenerationRequest(p, maxTokens, SamplingOptions.GREEDY));
        }
        List<int[]> references = new ArrayList<>();
        for (GenerationResult r : ar.generateAll(requests)) {
            int[] ref = new int[r.promptIds().length + r.generatedIds().length];
            System.arraycopy(r.promptIds(), 0, ref, 0, r.promptIds().length);
            System.arraycopy(r.generatedIds(), 0, ref, r.promptIds().length, r.generatedIds().length);
            references.add(ref);
        }
        return new OracleDrafter(references);
    }

    /**
     * The acceptance table of an oracle: every draft accepted, so k + 1 tokens per pass, and every pass a full block
     * (what the goodput policy is to expect of it).
     */
    public static AcceptanceTable acceptance(List<DecodeConfig> configs) {
        return AcceptanceTable.of("oracle (every draft accepted)", configs, c -> c.k() + 1, DecodeConfig::fullRows);
    }

    @Override
    public void draft(int previous, int previousPosition, float[] hidden, int firstRow, int count, int[] drafts) {
        int[] ref = byPositionAndToken.get(key(previousPosition, previous));
        for (int j = 0; j < count; j++) {
            int at = previousPosition + 1 + j;
            drafts[j] = ref != null && at < ref.length ? ref[at] : 0;
        }
    }

    private static long key(int position, int token) {
        return (long) position << 32 | (token & 0xffffffffL);
    }
}
