package io.mtpspark.engine.device;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.kvcache.SequenceCache;
import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.BlockBatch;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.ScalarBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The device forward on the emulated device against the CPU oracle and the run.c goldens (stories260K). */
class DeviceForwardTest {
    private static DeviceApi device;
    private static DeviceModel f32;

    @BeforeAll
    static void open() {
        device = TestDevices.open();
        f32 = DeviceModel.upload(device, TestModels.stories(), ElementType.F32);
    }

    @AfterAll
    static void close() {
        if (device != null) {
            f32.close();
            device.close();
        }
    }

    @Test
    void greedyGoldensTokenForTokenWithF32Weights() {
        try (DeviceForward fwd = new DeviceForward(f32, 64, 512, 1, 1, new ScalarBackend())) {
            AutoregressiveDecoder decoder = new AutoregressiveDecoder(fwd);
            for (TestModels.Golden g : TestModels.greedyGoldens()) {
                GenerationResult r = decoder.generate(g.promptIds(), g.maxTokens(), SamplingOptions.GREEDY);
                assertArrayEquals(g.generatedIds(), r.generatedIds(), g.name());
            }
        }
    }

    @Test
    void logitsWithinOneMillionthOfTheCpuOracle() {
        LlamaModel model = TestModels.stories();
        int vocab = model.config().vocabSize();
        LlamaForward cpu = new LlamaForward(model, new ScalarBackend(), 16, 512);
        try (DeviceForward dev = new DeviceForward(f32, 16, 512, 16, 1, new ScalarBackend())) {
            SequenceCache hc = cpu.newCache(528);
            SequenceCache dc = dev.newCache(528);
            int[] prompt = TestModels.greedyGoldens().get(0).promptIds();
            int[] tokens = new int[16];
            int[] pos = new int[16];
            int[] rows = new int[16];
            int at = 0;
            double worst = 0;
            for (int step = 0; step < 6; step++) {
                int n = step == 0 ? Math.min(prompt.length, 16) : 1 + step % 3;
                for (int i = 0; i < n; i++) {
                    tokens[i] = step == 0 ? prompt[i] : (7 * (at + i) + 3) % vocab;
                    pos[i] = at + i;
                    rows[i] = i;
                }
                BlockBatch b = new BlockBatch(16, 1);
                b.add(tokens, pos, null, n, AttentionMask.CAUSAL, hc, rows, n);
                cpu.forward(b, null);
                BlockBatch bd = new BlockBatch(16, 1);
                bd.add(tokens, pos, null, n, AttentionMask.CAUSAL, dc, rows, n);
                dev.forward(bd, null);
                for (int j = 0; j < n; j++) {
                    float max = 0;
                    for (int v = 0; v < vocab; v++) {
                        max = Math.max(max, Math.abs(cpu.logits()[j * vocab + v]));
                    }
                    for (int v = 0; v < vocab; v++) {
                        double diff = Math.abs(cpu.logits()[j * vocab + v] - dev.logits()[j * vocab + v]);
                        worst = Math.max(worst, diff / max);
                    }
                    assertEquals(io.mtpspark.engine.sampling.Sampler.argmax(dev.logits(), j * vocab, vocab),
                            dev.argmax()[j], "device argmax of row " + j);
                }
                at += n;
            }
            assertEquals(hc.length(), dc.length());
            System.out.println("worst relative logit difference (to the row's largest |logit|): " + worst);
            assertEquals(0, worst, 1e-5);
        }
    }

    /** One autoregressive decode step is 1 + 9 per layer + 3 launches (kernels and GEMMs), whatever the batch. */
    @Test
    void launchesPerDecodeStep() {
        LlamaModel model = TestModels.stories();
        int layers = model.config().nLayers();
        MtpAdapter adapter = MtpAdapter.random(model, 8, 4, 3);
        try (DeviceForward fwd = new DeviceForward(f32, 81, 512, 9, 1, new ScalarBackend())) {
            SequenceCache cache = fwd.newCache(512);
            BlockBatch b = new BlockBatch(81, 1);
            b.add(new int[]{1}, new int[]{0}, null, 1, AttentionMask.CAUSAL, cache, new int[]{0}, 1);
            fwd.forward(b, null);
            assertEquals(1 + 9L * layers + 3, fwd.launchesLastForward(), "autoregressive step");
            int n = 81;
            int[] tokens = new int[n];
            int[] pos = new int[n];
            boolean[] gate = new boolean[n];
            int[] real = new int[9];
            for (int i = 0; i < n; i++) {
                boolean mask = i % 9 != 0;
                tokens[i] = mask ? MtpAdapter.maskId(model.config().vocabSize(), i % 9) : 5;
                pos[i] = 1 + i / 9 + i % 9;
                gate[i] = mask;
                if (!mask) {
                    real[i / 9] = i;
                }
            }
            b.clear();
            b.add(tokens, pos, gate, n, AttentionMask.CAUSAL, cache, real, 9);
            fwd.forward(b, adapter);
            // each LoRA target adds gather, down GEMM, up GEMM and the add; the hidden states of the mask rows one
            assertEquals(1 + (9L + 7 * 4) * layers + 1 + 3, fwd.launchesLastForward(), "quadratic k=8 step");
            System.out.println("launches: autoregressive step " + (1 + 9 * layers + 3) + ", quadratic k=8 step with "
                    + "LoRA on 7 targets " + fwd.launchesLastForward());
        }
    }
}
