package io.mtpspark.engine.goodput;

import io.mtpspark.engine.decode.AdaptiveDecoder;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.BlockLayout;
import io.mtpspark.engine.decode.DecodeConfig;
import io.mtpspark.engine.decode.GenerationRequest;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.RandomModel;
import io.mtpspark.engine.mtp.AcceptanceTable;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.SamplerHeadDrafter;
import io.mtpspark.engine.mtp.ScriptedDrafter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.CpuBackend;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The policy on a live, calibrated backend: a random model large enough that one row's forward is bound by reading
 * the weights (dim 1024, 4 layers, ~220 MB of f32). With an oracle drafter (every draft right, acceptance = k) the
 * auto decoder must run MTP; with a random adapter's own drafts (acceptance ≈ 0) it must run autoregressively.
 * Both acceptance tables are measured the way {@code eval} measures them, and greedy output stays exact.
 */
class AutoChoiceOnMemoryBoundModelTest {
    private static final List<Integer> KS = List.of(1, 4, 8);

    @Test
    void oracleDraftsChooseMtpAndRandomDraftsChooseAutoregressive() {
        LlamaConfig c = new LlamaConfig("LlamaForCausalLM", 1024, 2816, 4, 16, 4, 4096, 512, 64, 10000.0, 1e-5f, null,
                false, false, 1, 2, false);
        LlamaModel model = RandomModel.create(c, 3);
        CpuBackend backend = new CpuBackend(2);
        MtpAdapter adapter = MtpAdapter.random(model, 8, 4, 9);
        int[] prompt = {1, 17, 99, 1234, 7, 3000};
        int tokens = 24;
        int[] expected = new AutoregressiveDecoder(new LlamaForward(model, backend, 64, 512))
                .generate(prompt, tokens, SamplingOptions.GREEDY).generatedIds();
        int[] reference = new int[prompt.length + expected.length];
        System.arraycopy(prompt, 0, reference, 0, prompt.length);
        System.arraycopy(expected, 0, reference, prompt.length, expected.length);
        List<BlockLayout> layouts = List.of(BlockLayout.LINEAR, BlockLayout.QUADRATIC);
        AcceptanceTable oracle = AcceptanceMeasurement.table("oracle", AcceptanceMeasurement.measure(model, backend,
                adapter, new ScriptedDrafter(reference, 1.0, c.vocabSize(), 1), List.of(prompt), KS, layouts, tokens));
        AcceptanceTable random = AcceptanceMeasurement.table("random", AcceptanceMeasurement.measure(model, backend,
                adapter, new SamplerHeadDrafter(model, adapter, backend), List.of(prompt), KS, layouts, tokens));
        assertTrue(oracle.tokens("quadratic k=8") > 5, "oracle acceptance " + oracle.tokensPerPass());
        assertTrue(random.tokens("quadratic k=8") < 1.2, "random acceptance " + random.tokensPerPass());

        List<DecodeConfig> configs = DecodeConfig.candidates(KS, 81);
        LlamaForward forward = new LlamaForward(model, backend, 81, 512, 9);
        CostCalibrator.clearCache();
        int[] rows = configs.stream().mapToInt(DecodeConfig::fullRows).distinct().sorted().toArray();
        int[] logits = new int[rows.length];
        java.util.Arrays.fill(logits, 1);
        ForwardCostModel cost = CostCalibrator.calibrate("random dim 1024", forward, adapter, 1, rows, logits,
                1_500_000_000L);
        // well under 9 rows (the block amortises the weights), the precondition of the choices below: on a host
        // with a 32 MB L3 and a noisy memory bus (the Zen 5 CI kind) a 60 MB model measured 1.4-3.4x one row from
        // run to run, and 5.2x on a Zen 3 host in an hour of fast memory (its one row read partly from L3, its 9 rows
        // compute-bound); this 220 MB model streams from memory on both, and read 4.7x once on the Zen 3 host in the
        // full suite (one row at 30 GB/s). With oracle drafts linear k=4 (9 rows) still emits 5 tokens a pass.
        assertTrue(cost.relative(1, 9) < 6, "one 9-row block should cost well under 9 rows here: " + cost);

        GoodputPolicy withOracle = new GoodputPolicy(configs, oracle, cost);
        GoodputPolicy withRandom = new GoodputPolicy(configs, random, cost);
        assertEquals(0, withRandom.choose(1, 1), withRandom.reason(1));
        AdaptiveDecoder plain = new AdaptiveDecoder(forward, adapter, configs,
                new SamplerHeadDrafter(model, adapter, backend), 1, withRandom);
        assertArrayEquals(expected, plain.generate(prompt, tokens, SamplingOptions.GREEDY).generatedIds());
        assertEquals(List.of("autoregressive"), List.copyOf(plain.stepsByConfig().keySet()));

        // With every draft right, MTP must win where the measured blocks let it win clearly. How clearly depends on
        // the host: on the 2-core AVX2 CI kind this model's one row reads partly from its 32 MB L3 (5 ms, 36 GB/s)
        // and a 9-row block costs 3-4.2x one row, so the best MTP option was predicted 12-36% ahead in quiet runs
        // and 4% behind under load (docs/BENCHMARKS.md, issue 15). Below a 25% lead the choice is a coin toss of the
        // calibration's noise, so the rest is skipped there, saying why (behind, the policy must still decode autoregressively).
        double bestMtp = 0;
        for (int i = 1; i < configs.size(); i++) {
            bestMtp = Math.max(bestMtp, withOracle.tokensPerSecond(i, 1, 1));
        }
        double lead = bestMtp / withOracle.tokensPerSecond(0, 1, 1);
        if (lead < 1) {
            assertEquals(0, withOracle.choose(1, 1), withOracle.reason(1));
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(lead >= 1.25, String.format(java.util.Locale.ROOT,
                "the best MTP option leads autoregressive decoding by only %.2fx on this host's calibration: %s; %s",
                lead, withOracle.reason(1), cost));
        assertTrue(!configs.get(withOracle.choose(1, 1)).autoregressive(), withOracle.reason(1));

        // and decoding with the policy in the loop: MTP steps with the oracle, none with the random drafts
        AdaptiveDecoder auto = new AdaptiveDecoder(forward, adapter, configs,
                new ScriptedDrafter(reference, 1.0, c.vocabSize(), 2), 1, withOracle);
        GenerationResult r = auto.generateAll(List.of(new GenerationRequest(prompt, tokens, SamplingOptions.GREEDY)))
                .get(0);
        assertArrayEquals(expected, r.generatedIds());
        // autoregressive decoding takes one pass a token; any MTP configuration the policy settles on (linear k=1,
        // the cheapest, after its three autoregressive baseline steps: about 14) takes well under that
        assertTrue(r.forwardPasses() <= tokens * 0.7, r.forwardPasses() + " passes for " + tokens
                + " tokens: oracle drafts accepted: " + auto.stepsByConfig() + "; " + withOracle.reason(1) + "; "
                + cost);
    }
}
