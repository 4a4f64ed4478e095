package io.mtpspark.engine.mtp;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.decode.AdaptiveDecoder;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.DecodeConfig;
import io.mtpspark.engine.decode.RandomStepChooser;
import io.mtpspark.engine.decode.StepChooser;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.decode.QuadraticDecoder;
import io.mtpspark.engine.kvcache.KvCache;
import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.RandomModel;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.session.DecoderFactory;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tensor.ScalarBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MtpDecodingTest {

    /**
     * Real rows of a quadratic block (gated LoRA active on its 64 mask rows) carry the base model's logits, bit for
     * bit: the CPU kernels sum in an order that does not depend on the block's shape, which is what makes greedy MTP
     * decoding exactly autoregressive even at near-ties.
     */
    @Test
    void realRowLogitsInsideAQuadraticBlockEqualAutoregressive() {
        LlamaModel model = TestModels.stories();
        int vocab = model.config().vocabSize();
        int k = 8;
        int[] seq = TestModels.greedyGoldens().get(0).generatedIds();
        int[] prompt = {1, 403, 407, 261, 378};
        // reference: prompt, then seq[0..k] one token at a time
        LlamaForward single = new LlamaForward(model, new CpuBackend(2), 16, 512);
        KvCache c1 = new KvCache(model.config(), 512);
        single.forward(prompt, new int[]{0, 1, 2, 3, 4}, 5, AttentionMask.CAUSAL, c1, null, 0);
        float[][] ref = new float[k + 1][];
        for (int g = 0; g <= k; g++) {
            single.forward(new int[]{seq[g]}, new int[]{5 + g}, 1, AttentionMask.CAUSAL, c1, new int[]{0}, 1);
            ref[g] = Arrays.copyOf(single.logits(), vocab);
        }
        // the same tokens as r_0..r_8 of one quadratic block, through the decoder's own layout
        MtpAdapter adapter = MtpAdapter.random(model, k, 8, 3);
        LlamaForward block = new LlamaForward(model, new CpuBackend(1), 81, 512);
        KvCache c2 = new KvCache(model.config(), 600);
        block.forward(prompt, new int[]{0, 1, 2, 3, 4}, 5, AttentionMask.CAUSAL, c2, null, 0);
        int rows = (k + 1) * (k + 1);
        int[] tokens = new int[rows];
        int[] pos = new int[rows];
        boolean[] gate = new boolean[rows];
        boolean[] local = new boolean[rows * rows];
        int[] real = new int[k + 1];
        for (int g = 0; g <= k; g++) {
            real[g] = g * (k + 1);
            tokens[real[g]] = seq[g];
            pos[real[g]] = 5 + g;
            for (int j = 1; j <= k; j++) {
                tokens[real[g] + j] = MtpAdapter.maskId(vocab, j);
                pos[real[g] + j] = 5 + g + j;
                gate[real[g] + j] = true;
            }
        }
        for (int q = 0; q < rows; q++) {
            for (int key = 0; key < rows; key++) {
                int gq = q / (k + 1);
                int sq = q % (k + 1);
                int gk = key / (k + 1);
                int sk = key % (k + 1);
                local[q * rows + key] = sk == 0 ? gk <= gq : gk == gq && sq >= sk;
            }
        }
        block.forward(tokens, pos, rows, AttentionMask.cachePlusLocal(local, rows), c2, real, k + 1, gate, adapter);
        for (int g = 0; g <= k; g++) {
            assertArrayEquals(ref[g], Arrays.copyOfRange(block.logits(), g * vocab, (g + 1) * vocab),
                    "real row " + g + " logits are bit-identical to single-token decoding");
        }
        // and their K/V: the rows kept after compaction equal the single-step cache
        int[] keep = new int[k + 1];
        for (int g = 0; g <= k; g++) {
            keep[g] = real[g];
        }
        c2.compact(5, keep, k + 1);
        int used = c1.length() * model.config().kvDim();
        assertArrayEquals(Arrays.copyOf(c1.keys(3), used), Arrays.copyOf(c2.keys(3), used));
        assertArrayEquals(Arrays.copyOf(c1.values(4), used), Arrays.copyOf(c2.values(4), used));
    }

    /**
     * Scripted drafts [right, wrong, right, right, ...]: prefix acceptance must stop at the first mismatch, so every
     * step accepts exactly one draft even though later drafts match the target.
     */
    @Test
    void acceptanceIsAPrefixNotACount() {
        LlamaModel model = TestModels.stories();
        int vocab = model.config().vocabSize();
        int[] prompt = {1, 403, 407, 261, 378};
        int[] gen = new AutoregressiveDecoder(new LlamaForward(model, new ScalarBackend(), 64, 512))
                .generate(prompt, 100, SamplingOptions.GREEDY).generatedIds();
        int[] ref = MtpExactnessTest.concat(prompt, gen);
        Drafter rightWrongRight = (prev, prevPos, hidden, firstRow, count, drafts) -> {
            for (int j = 0; j < count; j++) {
                int at = prevPos + 1 + j;
                int truth = at < ref.length ? ref[at] : 0;
                drafts[j] = j == 1 ? (truth + 1) % vocab : truth;
            }
        };
        int k = 4;
        QuadraticDecoder q = new QuadraticDecoder(new LlamaForward(model, new CpuBackend(1), 81, 512),
                MtpAdapter.random(model, k, 2, 1), k, rightWrongRight);
        GenerationResult r = q.generate(prompt, 60, SamplingOptions.GREEDY);
        assertArrayEquals(Arrays.copyOf(gen, 60), r.generatedIds());
        long steps = r.forwardPasses() - 1;
        assertEquals(steps, r.stats().acceptHistogram()[1], "every step accepts exactly 1 draft");
        assertEquals(0, r.stats().draftsAccepted()[2], "draft 3 matches but follows a mismatch");
        assertEquals(steps, r.stats().draftsAccepted()[0]);
        assertEquals(r.stats().draftsProposed()[2], r.stats().draftsProposed()[0]);
        // 1 token from the prefill, then 2 per step (accepted draft + bonus): 59 after 29 steps, the 30th is cut
        // to the budget of 60
        assertEquals(31, r.forwardPasses());
        assertEquals(60 / 31.0, r.tokensPerPass(), 1e-9);
    }

    /**
     * Speculative sampling preserves the base distribution: the second and third emitted tokens (which pass
     * through draft verification) follow the exact marginals of plain sampling, by a chi-square test over 20,000
     * seeded runs.
     */
    @Test
    void speculativeSamplingMatchesPlainSampling() {
        SamplingCase c = new SamplingCase();
        QuadraticDecoder q = new QuadraticDecoder(new LlamaForward(c.model, new CpuBackend(1), 81, 64),
                MtpAdapter.random(c.model, 2, 2, 1), 2, c.fixed);
        c.check(s -> q);
    }

    /**
     * The same marginals when every step runs a random configuration (autoregressive, linear or quadratic, k 1 or
     * 2): switching in the middle of a sequence keeps speculative sampling exact.
     */
    @Test
    void sampledOutputStaysExactWhenTheDecoderSwitchesEveryStep() {
        SamplingCase c = new SamplingCase();
        List<DecodeConfig> configs = DecodeConfig.candidates(List.of(1, 2), 9);
        StepChooser random = new RandomStepChooser(configs.size(), 99);
        AdaptiveDecoder auto = new AdaptiveDecoder(new LlamaForward(c.model, new CpuBackend(1), 81, 64, 3),
                MtpAdapter.random(c.model, 2, 2, 1), configs, c.fixed, 1, random);
        c.check(s -> auto);
        assertEquals(configs.size(), auto.stepsByConfig().size(), "every configuration ran: " + auto.stepsByConfig());
    }

    /** A tiny model without stop tokens, the exact marginals of its 2nd and 3rd sampled tokens, fixed drafts. */
    private static final class SamplingCase {
        final LlamaModel model;
        final int vocab = 10;
        final int[] prompt = {1, 4};
        final float temperature = 1.0f;
        final double[] m2 = new double[vocab];
        final double[] m3 = new double[vocab];
        final Drafter fixed;

        SamplingCase() {
            var tiny = RandomModel.tinyConfig(10, false);
            // no stop token inside the vocabulary, so every run emits exactly three tokens
            var noStop = new io.mtpspark.engine.model.LlamaConfig(tiny.architecture(), tiny.dim(), tiny.hiddenDim(),
                    tiny.nLayers(), tiny.nHeads(), tiny.nKvHeads(), 10, tiny.seqLen(), tiny.headDim(),
                    tiny.ropeTheta(), tiny.rmsNormEps(), null, false, false, 99, 99, false);
            model = RandomModel.create(noStop, 17);
            // exact marginals by enumeration with the plain forward
            double[] p1 = probs(model, prompt, temperature);
            for (int a = 0; a < vocab; a++) {
                double[] p2 = probs(model, new int[]{1, 4, a}, temperature);
                for (int b = 0; b < vocab; b++) {
                    m2[b] += p1[a] * p2[b];
                    double[] p3 = probs(model, new int[]{1, 4, a, b}, temperature);
                    for (int c = 0; c < vocab; c++) {
                        m3[c] += p1[a] * p2[b] * p3[c];
                    }
                }
            }
            // fixed drafts: the most likely second and third tokens, so they are often accepted and often rejected
            int d1 = argmax(m2);
            int d2 = argmax(m3);
            fixed = (prev, prevPos, hidden, firstRow, count, drafts) -> {
                for (int j = 0; j < count; j++) {
                    drafts[j] = j % 2 == 0 ? d1 : d2;
                }
            };
        }

        /** 20,000 seeded runs of the decoder; the 2nd and 3rd tokens pass a chi-square test against the marginals. */
        void check(java.util.function.IntFunction<io.mtpspark.engine.decode.Decoder> decoder) {
            int runs = 20_000;
            long[] c2 = new long[vocab];
            long[] c3 = new long[vocab];
            long accepted = 0;
            for (int s = 0; s < runs; s++) {
                GenerationResult r = decoder.apply(s).generate(prompt, 3, new SamplingOptions(temperature, 0, 1f, s));
                assertEquals(3, r.generatedIds().length);
                c2[r.generatedIds()[1]]++;
                c3[r.generatedIds()[2]]++;
                accepted += r.stats().draftsAccepted()[0];
            }
            assertTrue(accepted > 500 && accepted < runs - 500, "drafts both accepted and rejected: " + accepted);
            // 9 degrees of freedom: the 0.999 quantile is 27.88
            assertTrue(chiSquare(c2, m2, runs) < 27.88, "token 2 chi-square " + chiSquare(c2, m2, runs));
            assertTrue(chiSquare(c3, m3, runs) < 27.88, "token 3 chi-square " + chiSquare(c3, m3, runs));
        }
    }

    private static int argmax(double[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) {
            if (p[i] > p[best]) {
                best = i;
            }
        }
        return best;
    }

    private static double chiSquare(long[] observed, double[] p, int n) {
        double chi = 0;
        for (int i = 0; i < p.length; i++) {
            double e = p[i] * n;
            chi += (observed[i] - e) * (observed[i] - e) / e;
        }
        return chi;
    }

    private static double[] probs(LlamaModel model, int[] seq, float temperature) {
        LlamaForward f = new LlamaForward(model, new ScalarBackend(), 8, 64);
        KvCache cache = new KvCache(model.config(), 64);
        int[] pos = new int[seq.length];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = i;
        }
        f.forward(seq, pos, seq.length, AttentionMask.CAUSAL, cache, new int[]{seq.length - 1}, 1);
        int v = model.config().vocabSize();
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) {
            max = Math.max(max, f.logits()[i]);
        }
        double[] p = new double[v];
        double z = 0;
        for (int i = 0; i < v; i++) {
            p[i] = Math.exp((f.logits()[i] - max) / temperature);
            z += p[i];
        }
        for (int i = 0; i < v; i++) {
            p[i] /= z;
        }
        return p;
    }

    @Test
    void adapterRoundTripsThroughItsFile(@TempDir Path dir) throws Exception {
        LlamaModel model = TestModels.stories();
        MtpAdapter a = MtpAdapter.random(model, 8, 4, 42);
        Path f = dir.resolve("a.safetensors");
        a.save(f, model);
        MtpAdapter b = MtpAdapter.load(f, model);
        assertEquals(a.config(), b.config());
        assertArrayEquals(a.maskEmbeddings(), b.maskEmbeddings());
        assertArrayEquals(a.lora(4, LoraTarget.DOWN_PROJ).up(), b.lora(4, LoraTarget.DOWN_PROJ).up());
        assertArrayEquals(a.sampler().fc1(), b.sampler().fc1());
    }

    @Test
    void wrongBaseCorruptFileAndTooLargeKAreRefused(@TempDir Path dir) throws Exception {
        LlamaModel model = TestModels.stories();
        Path f = dir.resolve("a.safetensors");
        MtpAdapter.random(model, 4, 2, 1).save(f, model);
        LlamaModel other = RandomModel.create(RandomModel.tinyConfig(512, false), 1);
        EngineException e = assertThrows(EngineException.class, () -> MtpAdapter.load(f, other));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains("different base model"),
                e.getMessage());
        byte[] bytes = Files.readAllBytes(f);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 8));
        e = assertThrows(EngineException.class, () -> MtpAdapter.load(cut, model));
        assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("corrupt"), e.getMessage());
        Path plain = dir.resolve("plain");
        assertEquals(0, io.mtpspark.engine.cli.Main.execute("convert", "--model", TestModels.storiesBin().toString(),
                "--out", plain.toString()));
        e = assertThrows(EngineException.class, () -> MtpAdapter.load(plain.resolve("model.safetensors"), model));
        assertTrue(e.getMessage().contains("not an MTP adapter"), e.getMessage());
        MtpAdapter a = MtpAdapter.load(f, model);
        e = assertThrows(EngineException.class, () -> DecoderFactory.create("quadratic", model, new CpuBackend(1), a,
                8, 0));
        assertTrue(e.getMessage().contains("--k 8 is outside 1..4"), e.getMessage());
    }
}
