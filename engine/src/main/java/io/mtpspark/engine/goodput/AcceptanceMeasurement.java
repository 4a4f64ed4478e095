package io.mtpspark.engine.goodput;

import io.mtpspark.engine.decode.BlockLayout;
import io.mtpspark.engine.decode.DecodeConfig;
import io.mtpspark.engine.decode.DecodeStats;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.decode.LinearDecoder;
import io.mtpspark.engine.decode.QuadraticDecoder;
import io.mtpspark.engine.llama.BlockForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.AcceptanceTable;
import io.mtpspark.engine.mtp.Drafter;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.session.DecoderFactory;
import io.mtpspark.engine.tensor.Backend;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Measures an adapter's acceptance: each prompt decoded greedily (one sequence at a time) with each fixed linear or
 * quadratic configuration, giving tokens per forward pass (the paper's Table 1 figure), rows per decode pass and the
 * accepted-length histogram — what {@code eval} prints and what becomes the adapter's {@link AcceptanceTable}.
 */
public final class AcceptanceMeasurement {
    /** One configuration's totals over the prompts, with each prompt's generated ids (for exactness checks). */
    public record ConfigResult(DecodeConfig config, long tokens, long passes, DecodeStats stats, List<int[]> outputs) {
        public double tokensPerPass() {
            return passes == 0 ? 1 : tokens / (double) passes;
        }

        /** Mean rows of a decode pass (prompt chunks excluded). */
        public double rowsPerPass() {
            long steps = stats.mtpPasses();
            return steps == 0 ? config.fullRows() : stats.blockRows() / (double) steps;
        }
    }

    private AcceptanceMeasurement() {
    }

    public static List<ConfigResult> measure(LlamaModel model, Backend backend, MtpAdapter adapter, Drafter drafter,
                                             List<int[]> prompts, List<Integer> ks, List<BlockLayout> layouts,
                                             int maxTokens) {
        int maxK = ks.stream().mapToInt(Integer::intValue).max().orElse(1);
        int ctx = model.config().seqLen();
        // one decoder, and so one KV slot on a device, per (k, layout) pair
        BlockForward forward = DecoderFactory.forward(model, backend, Math.max(64, (maxK + 1) * (maxK + 1)), ctx,
                maxK + 1, ks.size() * layouts.size(), adapter.config().rank());
        List<ConfigResult> out = new ArrayList<>();
        for (int k : ks) {
            for (BlockLayout layout : layouts) {
                Decoder dec = switch (layout) {
                    case LINEAR -> new LinearDecoder(forward, adapter, k, drafter);
                    case QUADRATIC -> new QuadraticDecoder(forward, adapter, k, drafter);
                    case AUTOREGRESSIVE -> throw new IllegalArgumentException("acceptance of an MTP layout only");
                };
                long tokens = 0;
                long passes = 0;
                DecodeStats stats = DecodeStats.empty(layout.label(), k);
                List<int[]> outputs = new ArrayList<>();
                for (int[] p : prompts) {
                    GenerationResult r = dec.generate(p, maxTokens, SamplingOptions.GREEDY);
                    outputs.add(r.generatedIds());
                    tokens += r.generatedIds().length;
                    passes += r.forwardPasses();
                    stats = stats.plus(r.stats());
                }
                out.add(new ConfigResult(new DecodeConfig(layout, k), tokens, passes, stats, outputs));
            }
        }
        return out;
    }

    /** The acceptance table of measured results. */
    public static AcceptanceTable table(String measuredOn, List<ConfigResult> results) {
        Map<String, Double> tokens = new LinkedHashMap<>();
        Map<String, Double> rows = new LinkedHashMap<>();
        for (ConfigResult r : results) {
            tokens.put(r.config().label(), Math.max(1, r.tokensPerPass()));
            rows.put(r.config().label(), Math.max(1, r.rowsPerPass()));
        }
        return new AcceptanceTable(measuredOn, tokens, rows);
    }
}
