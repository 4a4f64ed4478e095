package io.mtpspark.engine.device;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.DecodeStats;
import io.mtpspark.engine.decode.GenerationRequest;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.decode.LinearDecoder;
import io.mtpspark.engine.decode.QuadraticDecoder;
import io.mtpspark.engine.decode.StopRule;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.ScriptedDrafter;
import io.mtpspark.engine.mtp.SamplerHeadDrafter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tensor.ScalarBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MTP entirely on the (emulated) device: verification, KV compaction and the sampler head's drafts all on the device
 * ({@link DeviceForward#verifyOnDevice}, {@link DeviceForward#draftOnDevice}), the host reading back only argmax,
 * verdicts and drafts. Greedy output equals autoregressive decoding token for token over 53 prompts (the stories
 * openings and random token strings), linear and quadratic, k in {1, 2, 4, 8} (the shipped adapter) and linear k = 1 and
 * quadratic k = 8 (a random one), batch 1 and 4, CUDA graphs on and off ({@link DeviceForward#graphs(boolean)}), and
 * with oracle drafts verified on the device; the device drafts are the host sampler head's (same acceptance at every
 * step).
 */
class DeviceSamplerHeadTest {
    private static final int MAX_TOKENS = 12;
    private static DeviceApi device;
    private static DeviceModel weights;
    private static LlamaModel model;
    private static MtpAdapter shipped;
    private static MtpAdapter random;
    private static List<int[]> prompts;
    private static List<int[]> expected;

    @BeforeAll
    static void open() {
        model = TestModels.stories();
        device = TestDevices.open();
        weights = DeviceModel.upload(device, model, ElementType.F32);
        shipped = MtpAdapter.load(TestModels.storiesDir().resolve("mtp-adapter.safetensors"), model);
        random = MtpAdapter.random(model, 8, 4, 11);
        prompts = new ArrayList<>(StoriesPrompts.openings(model));
        SplittableRandom rng = new SplittableRandom(5);
        int vocab = model.config().vocabSize();
        while (prompts.size() < 53) { // random token strings: BOS, then 2..12 ids that are not stop tokens
            int[] p = new int[3 + rng.nextInt(11)];
            p[0] = model.config().bosId();
            for (int i = 1; i < p.length; i++) {
                p[i] = 3 + rng.nextInt(vocab - 3);
            }
            prompts.add(p);
        }
        AutoregressiveDecoder cpu = new AutoregressiveDecoder(new LlamaForward(model, new CpuBackend(1), 64, 512));
        expected = new ArrayList<>();
        for (int[] p : prompts) {
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

    private static DeviceForward onDevice(MtpAdapter adapter, int rows, int logitRows, int slots) {
        return new DeviceForward(weights, rows, 512, logitRows, slots, new ScalarBackend())
                .verifyOnDevice(StopRule.of(model.config()).ids()).draftOnDevice(adapter);
    }

    private static Decoder decoder(String kind, DeviceForward fwd, MtpAdapter adapter, int k, int batch) {
        return kind.equals("linear") ? new LinearDecoder(fwd, adapter, k, fwd.deviceDrafter(), batch)
                : new QuadraticDecoder(fwd, adapter, k, fwd.deviceDrafter(), batch);
    }

    @Test
    void greedyMtpOnTheDeviceEqualsAutoregressiveOverManyPrompts() {
        int next = 0;
        long accepted = 0;
        int config = 0;
        int replayed = 0;
        boolean[] covered = new boolean[prompts.size()];
        for (MtpAdapter adapter : new MtpAdapter[]{shipped, random}) {
            for (String kind : new String[]{"linear", "quadratic"}) {
                // the random adapter's drafts are rarely accepted (a full block per token): two configurations
                int[] ks = adapter == shipped ? new int[]{1, 2, 4, 8} : kind.equals("linear") ? new int[]{1}
                        : new int[]{8};
                for (int k : ks) {
                    int rows = kind.equals("linear") ? 2 * k + 1 : (k + 1) * (k + 1);
                    // batch 1: three prompts one after another in one slot, the first two with CUDA graphs
                    try (DeviceForward fwd = onDevice(adapter, rows, k + 1, 1)) {
                        Decoder d = decoder(kind, fwd, adapter, k, 1);
                        for (int i = 0; i < 3; i++, next++) {
                            if (fwd.graphs() != i < 2) {
                                replayed += fwd.graphCounts()[1];
                                fwd.graphs(false);
                            }
                            int p = next % prompts.size();
                            covered[p] = true;
                            GenerationResult r = d.generate(prompts.get(p), MAX_TOKENS, SamplingOptions.GREEDY);
                            assertArrayEquals(expected.get(p), r.generatedIds(), kind + " k=" + k + " prompt " + p
                                    + " graphs " + fwd.graphs());
                            accepted += sum(r.stats());
                        }
                    }
                    // batch 4: five requests over four slots (one slot reused), graphs on and off by turns
                    boolean graphs = config++ % 2 == 0;
                    try (DeviceForward fwd = onDevice(adapter, 4 * rows, 4 * (k + 1), 4).graphs(graphs)) {
                        List<GenerationRequest> requests = new ArrayList<>();
                        List<Integer> ids = new ArrayList<>();
                        for (int i = 0; i < 5; i++, next++) {
                            int p = next % prompts.size();
                            covered[p] = true;
                            ids.add(p);
                            requests.add(new GenerationRequest(prompts.get(p), MAX_TOKENS, SamplingOptions.GREEDY));
                        }
                        List<GenerationResult> got = decoder(kind, fwd, adapter, k, 4).generateAll(requests);
                        for (int i = 0; i < got.size(); i++) {
                            assertArrayEquals(expected.get(ids.get(i)), got.get(i).generatedIds(),
                                    kind + " k=" + k + " batch 4, graphs " + graphs + ", prompt " + ids.get(i));
                            accepted += sum(got.get(i).stats());
                        }
                    }
                }
            }
        }
        for (int p = 0; p < covered.length; p++) {
            assertTrue(covered[p], "prompt " + p + " was never decoded");
        }
        assertTrue(accepted > 100, "the device drafts must be accepted, got " + accepted);
        assertTrue(replayed > 100, "steps replayed from graphs: " + replayed);
    }

    /**
     * Oracle drafts (the true continuation 90% of the time: long acceptances, so compaction moves many rows) with
     * verification and compaction on the device and graphs on and off, linear and quadratic k = 8, batch 1.
     */
    @Test
    void oracleDraftsVerifiedOnTheDeviceEqualAutoregressiveWithGraphsOnAndOff() {
        int vocab = model.config().vocabSize();
        long accepted = 0;
        for (String kind : new String[]{"linear", "quadratic"}) {
            int k = 8;
            int rows = kind.equals("linear") ? 2 * k + 1 : (k + 1) * (k + 1);
            for (boolean graphs : new boolean[]{true, false}) {
                // a slot per decoder (one per prompt)
                try (DeviceForward fwd = new DeviceForward(weights, rows, 512, k + 1, 4, new ScalarBackend())
                        .verifyOnDevice(StopRule.of(model.config()).ids()).graphs(graphs)) {
                    for (int p = 0; p < 4; p++) {
                        int[] reference = concat(prompts.get(p), expected.get(p));
                        var oracle = new ScriptedDrafter(reference, 0.9, vocab, p);
                        Decoder d = kind.equals("linear") ? new LinearDecoder(fwd, shipped, k, oracle)
                                : new QuadraticDecoder(fwd, shipped, k, oracle);
                        GenerationResult r = d.generate(prompts.get(p), MAX_TOKENS, SamplingOptions.GREEDY);
                        assertArrayEquals(expected.get(p), r.generatedIds(), kind + " graphs " + graphs + " prompt "
                                + p);
                        accepted += sum(r.stats());
                    }
                }
            }
        }
        assertTrue(accepted > 100, "oracle drafts must be accepted often, got " + accepted);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void deviceDraftsAreTheHostSamplerHeads() {
        for (String kind : new String[]{"linear", "quadratic"}) {
            for (int k : new int[]{4, 8}) {
                int rows = kind.equals("linear") ? 2 * k + 1 : (k + 1) * (k + 1);
                LlamaForward hostFwd = new LlamaForward(model, new CpuBackend(1), rows, 512, k + 1);
                var hostDrafter = new SamplerHeadDrafter(model, shipped, hostFwd.backend());
                Decoder host = kind.equals("linear") ? new LinearDecoder(hostFwd, shipped, k, hostDrafter)
                        : new QuadraticDecoder(hostFwd, shipped, k, hostDrafter);
                try (DeviceForward fwd = onDevice(shipped, rows, k + 1, 1)) {
                    Decoder dev = decoder(kind, fwd, shipped, k, 1);
                    for (int p = 0; p < 3; p++) {
                        GenerationResult h = host.generate(prompts.get(p), 20, SamplingOptions.GREEDY);
                        GenerationResult g = dev.generate(prompts.get(p), 20, SamplingOptions.GREEDY);
                        assertArrayEquals(h.generatedIds(), g.generatedIds());
                        assertArrayEquals(h.stats().acceptHistogram(), g.stats().acceptHistogram(),
                                kind + " k=" + k + " prompt " + p + ": the drafts differ from the host sampler head's");
                    }
                }
            }
        }
    }

    @Test
    void verificationCompactionAndDraftsAddFiftyNineLaunchesToAQuadraticK8Step() {
        int[] launches = new int[2];
        int[][] ids = new int[2][];
        for (int mode = 0; mode < 2; mode++) {
            try (DeviceForward fwd = mode == 0 ? new DeviceForward(weights, 81, 512, 9, 1, new ScalarBackend())
                    : onDevice(shipped, 81, 9, 1)) {
                var drafter = mode == 0 ? new SamplerHeadDrafter(model, shipped, fwd.backend()) : fwd.deviceDrafter();
                ids[mode] = new QuadraticDecoder(fwd, shipped, 8, drafter).generate(prompts.get(0), 12,
                        SamplingOptions.GREEDY).generatedIds();
                launches[mode] = (int) fwd.launchesLastForward();
            }
        }
        assertArrayEquals(ids[0], ids[1]);
        // the same last block either way (same drafts): mtp_verify + kv_compact_accepted + 8 sampler passes of 7
        // (input, 3 GEMMs, 2 norms, argmax) + the final sampler_input
        assertEquals(2 + 7 * 8 + 1, launches[1] - launches[0], "launches " + launches[0] + " -> " + launches[1]);
    }

    @Test
    void anotherAdapterOrNoVerifierIsRefused() {
        try (DeviceForward fwd = onDevice(shipped, 25, 5, 1)) {
            var d = new QuadraticDecoder(fwd, random, 4, fwd.deviceDrafter());
            var e = assertThrows(IllegalArgumentException.class,
                    () -> d.generate(prompts.get(0), 4, SamplingOptions.GREEDY));
            assertTrue(e.getMessage().contains("another adapter"), e.getMessage());
        }
        try (DeviceForward fwd = new DeviceForward(weights, 25, 512, 5, 1, new ScalarBackend())) {
            assertThrows(IllegalStateException.class, () -> fwd.draftOnDevice(shipped));
            assertThrows(IllegalStateException.class, fwd::deviceDrafter);
        }
    }

    private static long sum(DecodeStats s) {
        long n = 0;
        for (long a : s.draftsAccepted()) {
            n += a;
        }
        return n;
    }
}
