package io.mtpspark.engine.decode;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a generation was decoded: decoder name and k, the accepted-length histogram (index a = steps that accepted a
 * drafts, 0..k), drafts proposed and accepted per draft position (1..k, stored at index 0..k-1) and where the time
 * went (forward passes, sampler/drafting, verification and KV bookkeeping), the forward passes run with each
 * {@link DecodeConfig} (by label; an adaptive decoder switches between them) and the rows of its decode blocks
 * (prompt chunks excluded). Autoregressive decoding has k = 0; the histogram counts MTP passes only.
 */
public record DecodeStats(
        String decoder,
        int k,
        long[] acceptHistogram,
        long[] draftsProposed,
        long[] draftsAccepted,
        long forwardNanos,
        long samplerNanos,
        long bookkeepingNanos,
        Map<String, Long> configPasses,
        long blockRows) {

    public DecodeStats {
        configPasses = Map.copyOf(configPasses);
    }

    public static DecodeStats empty(String decoder, int k) {
        return new DecodeStats(decoder, k, new long[k + 1], new long[k], new long[k], 0, 0, 0, Map.of(), 0);
    }

    /** Decode steps (passes with an MTP block or one token; prompt chunks excluded) of MTP configurations. */
    public long mtpPasses() {
        long n = 0;
        for (long c : acceptHistogram) {
            n += c;
        }
        return n;
    }

    /** Acceptance rate of draft position j (1-based): accepted / proposed, or 0 when never proposed. */
    public double acceptanceRate(int j) {
        return draftsProposed[j - 1] == 0 ? 0 : draftsAccepted[j - 1] / (double) draftsProposed[j - 1];
    }

    /** Sums two statistics of the same decoder and k (e.g. the rows of one Spark task). */
    public DecodeStats plus(DecodeStats o) {
        if (!decoder.equals(o.decoder) || k != o.k) {
            throw new IllegalArgumentException("cannot add stats of " + decoder + "/k=" + k + " and " + o.decoder
                    + "/k=" + o.k);
        }
        return new DecodeStats(decoder, k, add(acceptHistogram, o.acceptHistogram), add(draftsProposed,
                o.draftsProposed), add(draftsAccepted, o.draftsAccepted), forwardNanos + o.forwardNanos,
                samplerNanos + o.samplerNanos, bookkeepingNanos + o.bookkeepingNanos,
                addCounts(configPasses, o.configPasses), blockRows + o.blockRows);
    }

    private static Map<String, Long> addCounts(Map<String, Long> a, Map<String, Long> b) {
        Map<String, Long> out = new LinkedHashMap<>(a);
        b.forEach((key, v) -> out.merge(key, v, Long::sum));
        return out;
    }

    private static long[] add(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length);
        for (int i = 0; i < out.length; i++) {
            out[i] += b[i];
        }
        return out;
    }
}
