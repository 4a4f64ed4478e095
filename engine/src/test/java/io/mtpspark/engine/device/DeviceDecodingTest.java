package io.mtpspark.engine.device;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.GenerationRequest;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.decode.LinearDecoder;
import io.mtpspark.engine.decode.QuadraticDecoder;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.SamplerHeadDrafter;
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
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Decoders on the device forward (emulated device, stories260K, F32 weights): greedy MTP emits exactly the
 * autoregressive tokens for every decoder and k in {1, 4, 8}, with the shipped adapter's drafts and with oracle
 * drafts that exercise long acceptances (KV compaction on the device); batched decoding equals unbatched, including
 * slots reused by later requests.
 */
class DeviceDecodingTest {
    private static final String[] OPENINGS = {"Once upon a time", "The little dog", "Sara and Ben went to the park",
            "Max had a red ball", "The old man"};
    private static final int MAX_TOKENS = 24;
    private static DeviceApi device;
    private static DeviceModel weights;
    private static MtpAdapter adapter;
    private static List<int[]> prompts;
    private static List<int[]> expected;

    @BeforeAll
    static void open() {
        LlamaModel model = TestModels.stories();
        device = TestDevices.open();
        weights = DeviceModel.upload(device, model, ElementType.F32);
        adapter = MtpAdapter.load(TestModels.storiesDir().resolve("mtp-adapter.safetensors"), model);
        Llama2cTokenizer tok = Llama2cTokenizer.load(TestModels.tok512(), model.config().vocabSize());
        prompts = new ArrayList<>();
        expected = new ArrayList<>();
        AutoregressiveDecoder cpu = new AutoregressiveDecoder(new LlamaForward(model, new CpuBackend(1), 64, 512));
        for (String s : OPENINGS) {
            int[] p = tok.encode(s);
            prompts.add(p);
            expected.add(cpu.generate(p, MAX_TOKENS, SamplingOptions.GREEDY).generatedIds());
        }
    }

    @AfterAll
    static void close() {
        if (device != null) {
            weights.close();
            device.close();
        }
    }

    private static DeviceForward forward(int rows, int logitRows, int slots) {
        return new DeviceForward(weights, rows, 512, logitRows, slots, new ScalarBackend());
    }

    @Test
    void autoregressiveOnTheDeviceEqualsTheCpu() {
        try (DeviceForward fwd = forward(64, 1, 1)) {
            AutoregressiveDecoder ar = new AutoregressiveDecoder(fwd);
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(expected.get(i), ar.generate(prompts.get(i), MAX_TOKENS, SamplingOptions.GREEDY)
                        .generatedIds(), "prompt " + i);
            }
        }
    }

    @Test
    void mtpDecodersOnTheDeviceEqualAutoregressive() {
        long accepted = 0;
        int vocab = weights.model().config().vocabSize();
        for (int k : new int[]{1, 4, 8}) {
            for (String kind : new String[]{"linear", "quadratic"}) {
                for (boolean oracle : new boolean[]{false, true}) {
                    try (DeviceForward fwd = forward(81, k + 1, prompts.size())) { // a decoder (and slot) per prompt
                        // the shipped adapter's drafts on every prompt; oracle drafts (long acceptances) on three
                        for (int i = 0; i < (oracle ? 3 : prompts.size()); i++) {
                            int[] reference = concat(prompts.get(i), expected.get(i));
                            var drafter = oracle ? new ScriptedDrafter(reference, 0.9, vocab, i)
                                    : new SamplerHeadDrafter(weights.model(), adapter, fwd.backend());
                            Decoder d = kind.equals("linear") ? new LinearDecoder(fwd, adapter, k, drafter)
                                    : new QuadraticDecoder(fwd, adapter, k, drafter);
                            GenerationResult r = d.generate(prompts.get(i), MAX_TOKENS, SamplingOptions.GREEDY);
                            assertArrayEquals(expected.get(i), r.generatedIds(), kind + " k=" + k + " oracle="
                                    + oracle + " prompt " + i);
                            for (long a : r.stats().draftsAccepted()) {
                                accepted += a;
                            }
                        }
                    }
                }
            }
        }
        assertTrue(accepted > 200, "drafts must be accepted often enough to exercise compaction, got " + accepted);
    }

    @Test
    void batchedEqualsUnbatchedWithSlotReuse() {
        List<GenerationRequest> requests = new ArrayList<>();
        for (int[] p : prompts) {
            requests.add(new GenerationRequest(p, MAX_TOKENS, SamplingOptions.GREEDY));
        }
        // 5 requests over 2 slots: three requests run in slots another sequence has finished with
        check(requests, fwd -> new AutoregressiveDecoder(fwd, 2), forward(2 * 16, 2, 2));
        check(requests, fwd -> new QuadraticDecoder(fwd, adapter, 4,
                new SamplerHeadDrafter(weights.model(), adapter, fwd.backend()), 2), forward(2 * 25, 2 * 5, 2));
    }

    private static void check(List<GenerationRequest> requests, Function<DeviceForward, Decoder> make,
                              DeviceForward fwd) {
        try (fwd) {
            List<GenerationResult> results = make.apply(fwd).generateAll(requests);
            assertEquals(requests.size(), results.size());
            for (int i = 0; i < results.size(); i++) {
                assertArrayEquals(expected.get(i), results.get(i).generatedIds(), "request " + i + " in a batch");
            }
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
