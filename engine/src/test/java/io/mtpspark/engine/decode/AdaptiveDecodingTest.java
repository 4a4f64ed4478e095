package io.mtpspark.engine.decode;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.goodput.CostCalibrator;
import io.mtpspark.engine.goodput.GoodputPolicy;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.AcceptanceTable;
import io.mtpspark.engine.mtp.Drafter;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.SamplerHeadDrafter;
import io.mtpspark.engine.mtp.ScriptedDrafter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.session.DecoderFactory;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tensor.FaultyBackend;
import io.mtpspark.engine.tokenizer.Llama2cTokenizer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Switching decoder and k between steps keeps greedy output autoregressive output, token for token: a chooser that
 * picks a random configuration (autoregressive, linear or quadratic, k in {1, 2, 4, 8}) at every step, over many
 * prompts, at batch 1 and 3, with the shipped adapter, a random one and an oracle drafter. And {@code --decoder auto}
 * falls back to autoregressive decoding, saying so, without an adapter or when calibration fails.
 */
class AdaptiveDecodingTest {
    private static final List<Integer> KS = List.of(1, 2, 4, 8);
    private static final int MAX_TOKENS = 40;

    private static List<int[]> prompts(LlamaModel model) {
        int vocab = model.config().vocabSize();
        Llama2cTokenizer tok = Llama2cTokenizer.load(TestModels.tok512(), vocab);
        List<int[]> out = new ArrayList<>();
        for (String s : new String[]{"Once upon a time", "Lily wanted to", "The little dog", "Tom and Sue",
                "One day, a boy named Tim", "There was a big tree", "Sara and Ben went to the park", "The sun was",
                "A cat sat", "Mom said", "The bird could not fly", "Max had a red ball"}) {
            out.add(tok.encode(s));
        }
        SplittableRandom rng = new SplittableRandom(7);
        for (int i = 0; i < 6; i++) {
            int[] p = new int[2 + rng.nextInt(10)];
            p[0] = 1;
            for (int j = 1; j < p.length; j++) {
                p[j] = 3 + rng.nextInt(vocab - 3);
            }
            out.add(p);
        }
        return out;
    }

    private static List<int[]> reference(LlamaModel model, CpuBackend backend, List<int[]> prompts) {
        AutoregressiveDecoder ar = new AutoregressiveDecoder(new LlamaForward(model, backend, 64, 512));
        List<int[]> out = new ArrayList<>();
        for (int[] p : prompts) {
            out.add(ar.generate(p, MAX_TOKENS, SamplingOptions.GREEDY).generatedIds());
        }
        return out;
    }

    private static AdaptiveDecoder switching(LlamaModel model, CpuBackend backend, MtpAdapter adapter,
                                             Drafter drafter, int batch, long seed) {
        List<DecodeConfig> configs = DecodeConfig.candidates(KS, 81);
        LlamaForward forward = new LlamaForward(model, backend, 81 * batch, 512, 9 * batch);
        return new AdaptiveDecoder(forward, adapter, configs, drafter, batch,
                new RandomStepChooser(configs.size(), seed));
    }

    @Test
    void randomSwitchesKeepGreedyOutputExact() {
        LlamaModel model = TestModels.stories();
        CpuBackend backend = new CpuBackend(2);
        List<int[]> prompts = prompts(model);
        List<int[]> expected = reference(model, backend, prompts);
        MtpAdapter shipped = MtpAdapter.load(TestModels.storiesDir().resolve("mtp-adapter.safetensors"), model);
        MtpAdapter random = MtpAdapter.random(model, 8, 4, 5);
        List<GenerationRequest> requests = prompts.stream()
                .map(p -> new GenerationRequest(p, MAX_TOKENS, SamplingOptions.GREEDY)).toList();
        Map<String, Long> seen = new java.util.HashMap<>();
        for (MtpAdapter adapter : new MtpAdapter[]{shipped, random}) {
            for (int batch : new int[]{1, 3}) {
                AdaptiveDecoder dec = switching(model, backend, adapter,
                        new SamplerHeadDrafter(model, adapter, backend), batch, 31L * batch);
                List<GenerationResult> got = dec.generateAll(requests);
                for (int i = 0; i < prompts.size(); i++) {
                    assertArrayEquals(expected.get(i), got.get(i).generatedIds(), "prompt " + i + ", batch " + batch);
                }
                dec.stepsByConfig().forEach((c, n) -> seen.merge(c, n, Long::sum));
            }
        }
        // the oracle drafter proposes the true continuation: long acceptances, then a forced switch
        for (int i = 0; i < prompts.size(); i++) {
            int[] ref = concat(prompts.get(i), expected.get(i));
            AdaptiveDecoder dec = switching(model, backend, random,
                    new ScriptedDrafter(ref, 0.9, model.config().vocabSize(), i), 1, i);
            assertArrayEquals(expected.get(i), dec.generate(prompts.get(i), MAX_TOKENS, SamplingOptions.GREEDY)
                    .generatedIds(), "oracle, prompt " + i);
            dec.stepsByConfig().forEach((c, n) -> seen.merge(c, n, Long::sum));
        }
        assertEquals(DecodeConfig.candidates(KS, 81).size(), seen.size(), "every configuration ran: " + seen);
    }

    /**
     * Acceptance is learnt from what verification accepted, not from what the token budget let through: with drafts
     * that are always right, every full pass of linear k=8 accepts its 8 drafts, and the decoder's acceptance ratio
     * stays exactly 1 although the budget of 17 tokens cuts the second full pass to 7 of its 9 tokens (counted as
     * emitted, the ratio fell to (14 + 64) / (16 + 64) per prompt, steering short sequences toward small k).
     */
    @Test
    void aPassCutByTheTokenBudgetDoesNotReadAsPoorAcceptance() {
        LlamaModel model = TestModels.stories();
        CpuBackend backend = new CpuBackend(2);
        List<int[]> prompts = prompts(model).subList(0, 4);
        List<int[]> expected = reference(model, backend, prompts);
        MtpAdapter random = MtpAdapter.random(model, 8, 4, 5);
        List<DecodeConfig> configs = List.of(DecodeConfig.parse("autoregressive"), DecodeConfig.parse("linear k=8"));
        // always linear k=8, whose always-right drafts bring k + 1 tokens a pass
        StepChooser linear8 = RandomStepChooser.always(1, 1, 9);
        for (int i = 0; i < prompts.size(); i++) {
            int[] ref = concat(prompts.get(i), expected.get(i)); // 40 tokens: drafts stay right past the budget
            AdaptiveDecoder dec = new AdaptiveDecoder(new LlamaForward(model, backend, 81, 512, 9), random, configs,
                    new ScriptedDrafter(ref, 1.0, model.config().vocabSize(), i), 1, linear8);
            GenerationResult r = dec.generate(prompts.get(i), 17, SamplingOptions.GREEDY);
            assertArrayEquals(java.util.Arrays.copyOf(expected.get(i), 17), r.generatedIds(), "prompt " + i);
            assertEquals(1.0, dec.acceptanceRatio(), "prompt " + i + ": " + dec.stepsByConfig());
        }
    }

    @Test
    void autoWithoutAdapterDecodesAutoregressivelyAndSaysSo() {
        LlamaModel model = TestModels.stories();
        List<String> logged = capture(() -> assertInstanceOf(AutoregressiveDecoder.class,
                DecoderFactory.create("auto", model, new CpuBackend(1), null, 0, 0, 2)));
        assertEquals(1, logged.stream().filter(m -> m.contains("no adapter") && m.contains("autoregressively"))
                .count(), String.valueOf(logged));
    }

    /**
     * The backend throws during the calibration (the first matmul after it starts, the way a device error would):
     * the policy logs it, decodes autoregressively from then on, and every output is still exact.
     */
    @Test
    void failedCalibrationFallsBackToAutoregressiveAndDecodingGoesOn() {
        LlamaModel model = TestModels.stories();
        CpuBackend cpu = new CpuBackend(1);
        List<int[]> prompts = prompts(model).subList(0, 3);
        List<int[]> expected = reference(model, cpu, prompts);
        MtpAdapter adapter = MtpAdapter.random(model, 2, 2, 1).withAcceptance(new AcceptanceTable("test",
                Map.of("linear k=1", 1.5, "quadratic k=1", 1.6, "linear k=2", 1.7, "quadratic k=2", 1.9),
                Map.of("linear k=1", 2.5, "quadratic k=1", 4.0, "linear k=2", 4.0, "quadratic k=2", 9.0)));
        FaultyBackend faulty = new FaultyBackend(cpu, Long.MAX_VALUE);
        List<DecodeConfig> configs = DecodeConfig.candidates(List.of(1, 2), 9);
        LlamaForward forward = new LlamaForward(model, faulty, 64 * 2, 512, 3 * 2);
        GoodputPolicy policy = new GoodputPolicy(configs, adapter.acceptance(), () -> {
            faulty.failAfter(0);
            return CostCalibrator.calibrate("faulty", forward, adapter, 2, new int[]{1, 2, 3, 4, 5, 9},
                    new int[]{1, 1, 2, 2, 3, 3}, 500_000_000L);
        }, 0);
        AdaptiveDecoder auto = new AdaptiveDecoder(forward, adapter, configs, new SamplerHeadDrafter(model, adapter,
                faulty), 2, policy);
        List<GenerationRequest> requests = prompts.stream()
                .map(p -> new GenerationRequest(p, MAX_TOKENS, SamplingOptions.GREEDY)).toList();
        List<List<GenerationResult>> got = new ArrayList<>();
        List<String> logged = capture(GoodputPolicy.class, () -> got.add(auto.generateAll(requests)));
        assertEquals(1, logged.stream().filter(m -> m.contains("calibration failed")
                && m.contains("autoregressively")).count(), String.valueOf(logged));
        assertEquals(List.of("autoregressive"), List.copyOf(auto.stepsByConfig().keySet()));
        for (int i = 0; i < prompts.size(); i++) {
            assertArrayEquals(expected.get(i), got.get(0).get(i).generatedIds());
        }
    }

    static List<String> capture(Runnable r) {
        return capture(DecoderFactory.class, r);
    }

    static List<String> capture(Class<?> source, Runnable r) {
        Logger log = Logger.getLogger(source.getName());
        List<String> messages = new ArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord record) {
                messages.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(h);
        try {
            r.run();
        } finally {
            log.removeHandler(h);
        }
        return messages;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
