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
