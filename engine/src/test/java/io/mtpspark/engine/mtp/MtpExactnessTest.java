package io.mtpspark.engine.mtp;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.decode.LinearDecoder;
import io.mtpspark.engine.decode.QuadraticDecoder;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.RandomModel;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tokenizer.Llama2cTokenizer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The promise: greedy linear and quadratic MTP decoding emit exactly the tokens of greedy autoregressive decoding,
 * for any adapter and any k, to the token budget. Checked as a property over many prompts (story openings and
 * random token strings), k in {1, 2, 4, 8}, random, zero and "oracle" drafts (which exercise long acceptances).
 */
class MtpExactnessTest {
    private static final String[] OPENINGS = {"Once upon a time", "Lily wanted to", "The little dog", "Tom and Sue",
            "One day, a boy named Tim", "There was a big tree", "Sara and Ben went to the park", "The sun was",
            "A cat sat", "Mom said", "The bird could not fly", "Max had a red ball", "It was a rainy day",
            "The old man", "Anna found a box", "In the forest", "The frog jumped", "Ben liked to eat",
            "The car was fast", "A girl named Sue", "The toy was broken", "Jack and Jill", "The kind bear",
            "At the beach", "The moon was big and", "Sam saw a shiny", "The baby cried", "Once there was a fish",
            "Lucy and her mom", "The dog barked"};

    private static List<int[]> prompts(Llama2cTokenizer tok, int randomCount, int vocab) {
        List<int[]> out = new ArrayList<>();
        for (String s : OPENINGS) {
            out.add(tok.encode(s));
        }
        SplittableRandom rng = new SplittableRandom(2024);
        for (int i = 0; i < randomCount; i++) {
            int[] p = new int[1 + 1 + rng.nextInt(12)];
            p[0] = 1;
            for (int j = 1; j < p.length; j++) {
                p[j] = 3 + rng.nextInt(vocab - 3);
            }
            out.add(p);
        }
        return out;
    }

    @Test
    void greedyMtpEqualsAutoregressiveOnStories() {
        LlamaModel model = TestModels.stories();
        int vocab = model.config().vocabSize();
        List<int[]> prompts = prompts(Llama2cTokenizer.load(TestModels.tok512(), vocab), 20, vocab);
        assertTrue(prompts.size() >= 50);
        int maxTokens = 48;
        CpuBackend backend = new CpuBackend(2);
        AutoregressiveDecoder ar = new AutoregressiveDecoder(new LlamaForward(model, backend, 64, 512));
        List<int[]> expected = new ArrayList<>();
        for (int[] p : prompts) {
            expected.add(ar.generate(p, maxTokens, SamplingOptions.GREEDY).generatedIds());
        }
        MtpAdapter random = MtpAdapter.random(model, 8, 4, 77);
        MtpAdapter zero = MtpAdapter.zero(model, 8, 4);
        long accepted = 0;
        for (int k : new int[]{1, 2, 4, 8}) {
            LlamaForward fwd = new LlamaForward(model, backend, 81, 512);
            for (int i = 0; i < prompts.size(); i++) {
                int[] p = prompts.get(i);
                int[] reference = concat(p, expected.get(i));
                Decoder[] decoders = {
                        new LinearDecoder(fwd, random, k), new QuadraticDecoder(fwd, random, k),
                        new LinearDecoder(fwd, zero, k), new QuadraticDecoder(fwd, zero, k),
                        new LinearDecoder(fwd, random, k, new ScriptedDrafter(reference, 0.8, vocab, i)),
                        new QuadraticDecoder(fwd, random, k, new ScriptedDrafter(reference, 0.8, vocab, i))};
                for (Decoder d : decoders) {
                    GenerationResult r = d.generate(p, maxTokens, SamplingOptions.GREEDY);
                    assertArrayEquals(expected.get(i), r.generatedIds(), d.name() + " k=" + k + " prompt " + i);
                    accepted += sum(r.stats().draftsAccepted());
                }
            }
        }
        assertTrue(accepted > 1000, "oracle drafts must exercise acceptance, accepted " + accepted);
    }

    @Test
    void greedyMtpEqualsAutoregressiveOnRandomGqaModel() {
        LlamaModel model = RandomModel.create(RandomModel.tinyConfig(96, true), 31);
        int vocab = model.config().vocabSize();
        CpuBackend backend = new CpuBackend(1);
        AutoregressiveDecoder ar = new AutoregressiveDecoder(new LlamaForward(model, backend, 64, 200));
        LlamaForward fwd = new LlamaForward(model, backend, 81, 200);
        MtpAdapter adapter = MtpAdapter.random(model, 8, 3, 5);
        SplittableRandom rng = new SplittableRandom(9);
        for (int i = 0; i < 20; i++) {
            int[] p = new int[2 + rng.nextInt(6)];
            p[0] = 1;
            for (int j = 1; j < p.length; j++) {
                p[j] = 3 + rng.nextInt(vocab - 3);
            }
            int[] expected = ar.generate(p, 60, SamplingOptions.GREEDY).generatedIds();
            for (int k : new int[]{1, 3, 8}) {
                for (Decoder d : new Decoder[]{new QuadraticDecoder(fwd, adapter, k), new LinearDecoder(fwd, adapter, k),
                        new QuadraticDecoder(fwd, adapter, k, new ScriptedDrafter(concat(p, expected), 0.7, vocab, i))}) {
                    assertArrayEquals(expected, d.generate(p, 60, SamplingOptions.GREEDY).generatedIds(),
                            d.name() + " k=" + k);
                }
            }
        }
    }

    /** Up to the last position of the context, MTP stops exactly where autoregressive decoding stops. */
    @Test
    void contextLimitMatchesAutoregressive() {
        LlamaModel model = RandomModel.create(RandomModel.tinyConfig(64, false), 8);
        CpuBackend backend = new CpuBackend(1);
        int ctx = 40;
        int[] prompt = {1, 5, 9, 12};
        GenerationResult ar = new AutoregressiveDecoder(new LlamaForward(model, backend, 64, ctx))
                .generate(prompt, 1000, SamplingOptions.GREEDY);
        LlamaForward fwd = new LlamaForward(model, backend, 81, ctx);
        MtpAdapter adapter = MtpAdapter.random(model, 8, 2, 1);
        int[] reference = concat(prompt, ar.generatedIds());
        for (Decoder d : new Decoder[]{new QuadraticDecoder(fwd, adapter, 8,
                new ScriptedDrafter(reference, 0.9, 64, 3)), new LinearDecoder(fwd, adapter, 8,
                new ScriptedDrafter(reference, 0.9, 64, 3))}) {
            GenerationResult r = d.generate(prompt, 1000, SamplingOptions.GREEDY);
            assertArrayEquals(ar.generatedIds(), r.generatedIds(), d.name());
            assertEquals(ar.finishReason(), r.finishReason());
        }
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static long sum(long[] v) {
        long s = 0;
        for (long x : v) {
            s += x;
        }
        return s;
    }
}
