package io.mtpspark.engine.device;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.FinishReason;
import io.mtpspark.engine.decode.GenerationRequest;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.decode.LinearDecoder;
import io.mtpspark.engine.decode.QuadraticDecoder;
import io.mtpspark.engine.decode.StopRule;
import io.mtpspark.engine.llama.BlockForward;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.ScriptedDrafter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tensor.ScalarBackend;
import io.mtpspark.engine.tokenizer.Llama2cTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Greedy verification and KV compaction on the device ({@link DeviceVerifier}: {@code mtp_verify},
 * {@code kv_compact_accepted}) against the host decoders (host verification from logits, {@code KvCache}
 * compaction) on the same scripted drafts: accept none, some, all; a stop token inside the accepted drafts; the
 * context running out in the middle of a block; a batch of four. Equal ids, finish reasons and acceptance counts
 * mean the device found the same accepted prefix at every step; equal later tokens mean it kept the right KV rows.
 */
class DeviceVerifierTest {
    private static final String[] OPENINGS = {"Once upon a time", "The little dog", "Sara and Ben went to the park",
            "Max had a red ball"};
    private static final int MAX_TOKENS = 24;
    private static DeviceApi device;
    private static DeviceModel weights;
    private static LlamaModel model;
    private static MtpAdapter adapter;
    private static List<int[]> prompts;
    private static List<int[]> references; // prompt followed by its greedy continuation of 120 tokens

    @BeforeAll
    static void open() {
        model = TestModels.stories();
        device = TestDevices.open();
        weights = DeviceModel.upload(device, model, ElementType.F32);
        adapter = MtpAdapter.load(TestModels.storiesDir().resolve("mtp-adapter.safetensors"), model);
        Llama2cTokenizer tok = Llama2cTokenizer.load(TestModels.tok512(), model.config().vocabSize());
        prompts = new ArrayList<>();
        references = new ArrayList<>();
        AutoregressiveDecoder cpu = new AutoregressiveDecoder(new LlamaForward(model, new CpuBackend(1), 64, 512));
        for (String s : OPENINGS) {
            int[] p = tok.encode(s);
            prompts.add(p);
            references.add(concat(p, cpu.generate(p, 120, SamplingOptions.GREEDY).generatedIds()));
        }
    }

    @AfterAll
    static void close() {
        if (device != null) {
            weights.close();
            device.close();
        }
    }

    private static DeviceForward verifying(DeviceModel dm, int rows, int context, int logitRows, int slots) {
        return new DeviceForward(dm, rows, context, logitRows, slots, new ScalarBackend())
                .verifyOnDevice(StopRule.of(dm.model().config()).ids());
    }

    private static Decoder decoder(String kind, BlockForward fwd, int k, ScriptedDrafter drafter, int batch) {
        return switch (kind) {
            case "linear" -> new LinearDecoder(fwd, adapter, k, drafter, batch);
            case "quadratic" -> new QuadraticDecoder(fwd, adapter, k, drafter, batch);
            default -> new AutoregressiveDecoder(fwd, batch);
        };
    }

    /** The same decoder, drafts and request on the host forward and on the verifying device forward. */
    private static void same(DeviceModel dm, String kind, int k, double hitRate, int promptIndex, int maxTokens,
                             int context, String what) {
        LlamaModel m = dm.model();
        int vocab = m.config().vocabSize();
        int[] prompt = prompts.get(promptIndex);
        int[] reference = references.get(promptIndex);
        int rows = kind.equals("autoregressive") ? 16 : (k + 1) * (k + 1);
        GenerationResult host = decoder(kind, new LlamaForward(m, new CpuBackend(1), rows, context, k + 1), k,
                new ScriptedDrafter(reference, hitRate, vocab, 7), 1).generate(prompt, maxTokens, SamplingOptions.GREEDY);
        try (DeviceForward fwd = verifying(dm, rows, context, k + 1, 1)) {
            GenerationResult dev = decoder(kind, fwd, k, new ScriptedDrafter(reference, hitRate, vocab, 7), 1)
                    .generate(prompt, maxTokens, SamplingOptions.GREEDY);
            assertArrayEquals(host.generatedIds(), dev.generatedIds(), what + ": ids");
            assertEquals(host.finishReason(), dev.finishReason(), what + ": finish reason");
            assertArrayEquals(host.stats().acceptHistogram(), dev.stats().acceptHistogram(), what + ": accepted a");
            assertArrayEquals(host.stats().draftsAccepted(), dev.stats().draftsAccepted(), what + ": per draft");
            assertEquals(host.forwardPasses(), dev.forwardPasses(), what + ": forwards");
        }
    }

    @Test
    void acceptNoneSomeAllLikeTheHostDecoders() {
        int combination = 0;
        for (String kind : new String[]{"linear", "quadratic"}) {
            for (int k : new int[]{1, 2, 4, 8}) {
                for (double hit : new double[]{0.0, 0.6, 1.0}) {
                    int p = combination++ % prompts.size();
                    same(weights, kind, k, hit, p, MAX_TOKENS, 512, kind + " k=" + k + " hit=" + hit + " prompt " + p);
                }
            }
        }
        same(weights, "autoregressive", 0, 0, 2, MAX_TOKENS, 512, "autoregressive");
    }

    @Test
    void stopTokenInsideTheAcceptedDraftsEndsTheSequenceThere() {
        // stories260K does not stop within a short run, so make the 12th greedy token of prompt 0 (first seen there)
        // the model's stop token: oracle drafts then propose it and the tokens after it in one accepted block
        int[] ref = references.get(0);
        int at = prompts.get(0).length + 11;
        while (firstIndex(ref, ref[at], prompts.get(0).length) != at) {
            at++;
        }
        LlamaConfig c = model.config();
        LlamaConfig stopping = new LlamaConfig(c.architecture(), c.dim(), c.hiddenDim(), c.nLayers(), c.nHeads(),
                c.nKvHeads(), c.vocabSize(), c.seqLen(), c.headDim(), c.ropeTheta(), c.rmsNormEps(), c.ropeScaling(),
                c.qkvBias(), c.tiedEmbeddings(), c.bosId(), ref[at], false);
        LlamaModel m = new LlamaModel(stopping, model.weights(), model.source());
        try (DeviceModel dm = DeviceModel.upload(device, m, ElementType.F32)) {
            for (String kind : new String[]{"linear", "quadratic"}) {
                for (int k : new int[]{4, 8}) {
                    same(dm, kind, k, 1.0, 0, 60, 512, kind + " k=" + k + " stop inside accepted drafts");
                }
            }
            try (DeviceForward fwd = verifying(dm, 81, 512, 9, 1)) {
                GenerationResult r = new QuadraticDecoder(fwd, adapter, 8,
                        new ScriptedDrafter(ref, 1.0, c.vocabSize(), 7)).generate(prompts.get(0), 60,
                        SamplingOptions.GREEDY);
                assertEquals(FinishReason.STOP, r.finishReason());
                assertEquals(at - prompts.get(0).length + 1, r.generatedIds().length, "emission ends at the stop");
                assertTrue(r.stats().acceptHistogram()[8] > 0, "full blocks accepted");
            }
        }
    }

    @Test
    void contextRunningOutMidBlock() {
        for (String kind : new String[]{"linear", "quadratic"}) {
            for (int k : new int[]{4, 8}) {
                for (double hit : new double[]{0.6, 1.0}) {
                    int context = prompts.get(1).length + 13; // not a multiple of any block: the last block shrinks
                    same(weights, kind, k, hit, 1, 100, context, kind + " k=" + k + " hit=" + hit + " context "
                            + context);
                }
            }
        }
    }

    @Test
    void batchOfFourWithDeviceVerification() {
        int vocab = model.config().vocabSize();
        List<GenerationRequest> requests = new ArrayList<>();
        List<int[]> expected = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            requests.add(new GenerationRequest(prompts.get(i), MAX_TOKENS, SamplingOptions.GREEDY));
            expected.add(java.util.Arrays.copyOfRange(references.get(i), prompts.get(i).length,
                    prompts.get(i).length + MAX_TOKENS));
        }
        for (String kind : new String[]{"linear", "quadratic", "autoregressive"}) {
            int k = 4;
            try (DeviceForward fwd = verifying(weights, 4 * 25, 512, 4 * (k + 1), 4)) {
                List<GenerationResult> got = decoder(kind, fwd, k,
                        new ScriptedDrafter(references.get(0), 0.0, vocab, 1), 4).generateAll(requests);
                for (int i = 0; i < got.size(); i++) {
                    assertArrayEquals(expected.get(i), got.get(i).generatedIds(), kind + " request " + i);
                }
            }
        }
    }

    /** Temperature > 0 on a verifying forward samples on the device (seeded: the same seed, the same tokens). */
    @Test
    void samplesOnTheDeviceAndHandsOutNoLogits() {
        try (DeviceForward fwd = verifying(weights, 16, 512, 1, 1)) {
            var decoder = new AutoregressiveDecoder(fwd);
            var options = new SamplingOptions(0.8f, 0, 1f, 1L);
            int[] first = decoder.generate(prompts.get(0), 8, options).generatedIds();
            assertEquals(8, first.length);
            assertArrayEquals(first, decoder.generate(prompts.get(0), 8, options).generatedIds());
            assertTrue(fwd.samplesOnDevice());
            assertThrows(IllegalStateException.class, fwd::logits);
            assertFalse(fwd.verdicts() == null);
        }
    }

    private static int firstIndex(int[] a, int v, int from) {
        for (int i = from; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
