package io.mtpspark.engine.device;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.decode.GenerationRequest;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.decode.LinearDecoder;
import io.mtpspark.engine.decode.QuadraticDecoder;
import io.mtpspark.engine.decode.StopRule;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.SamplingCase;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.ScalarBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Decoding at temperature > 0 with verification on the device ({@code spec_sample}, then the greedy verifier on its
 * tokens): the tiny model's 2nd and 3rd tokens keep the exact marginals of plain sampling (the host decoders'
 * chi-square case, {@link SamplingCase}, 1,500 runs: the emulator is slow) with quadratic k = 2 at batch 16; on
 * stories260K with the shipped adapter drafting on the device (quadratic k = 4), top-k + top-p, a request's tokens
 * depend on its seed only: the same at batch 1 and batch 4, with CUDA graphs on and off, and different seeds give
 * different texts.
 */
class DeviceSamplingDecodeTest {
    private static DeviceApi device;

    @BeforeAll
    static void open() {
        device = TestDevices.open();
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
        }
    }

    @Test
    void speculativeSamplingOnTheDeviceKeepsThePlainSamplingMarginals() {
        SamplingCase c = new SamplingCase();
        int batch = 16;
        try (DeviceModel w = DeviceModel.upload(device, c.model, ElementType.F32);
             DeviceForward fwd = new DeviceForward(w, batch * 9, 64, batch * 3, batch, new ScalarBackend())
                     .verifyOnDevice(StopRule.of(c.model.config()).ids())) {
            c.checkBatched(new QuadraticDecoder(fwd, MtpAdapter.random(c.model, 2, 2, 1), 2, c.fixed, batch), 1500);
        }
    }

    @Test
    void aRequestsSampledTokensDependOnItsSeedOnly() {
        LlamaModel model = TestModels.stories();
        MtpAdapter adapter = MtpAdapter.load(TestModels.storiesDir().resolve("mtp-adapter.safetensors"), model);
        List<int[]> openings = StoriesPrompts.openings(model);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            requests.add(new GenerationRequest(openings.get(i % 3), 12,
                    new SamplingOptions(0.8f, 40, 0.95f, 1000 + i)));
        }
        int k = 4;
        try (DeviceModel w = DeviceModel.upload(device, model, ElementType.F32)) {
            for (String kind : new String[]{"quadratic"}) {
                int rows = kind.equals("linear") ? 2 * k + 1 : (k + 1) * (k + 1);
                List<int[]> reference = null;
                long accepted = 0;
                for (int run = 0; run < 3; run++) { // batch 1 with graphs, batch 4 without and with
                    int batch = run == 0 ? 1 : 4;
                    boolean graphs = run != 1;
                    {
                        try (DeviceForward fwd = new DeviceForward(w, batch * rows, 512, batch * (k + 1), batch,
                                new ScalarBackend()).verifyOnDevice(StopRule.of(model.config()).ids())
                                .draftOnDevice(adapter).graphs(graphs)) {
                            var d = kind.equals("linear")
                                    ? new LinearDecoder(fwd, adapter, k, fwd.deviceDrafter(), batch)
                                    : new QuadraticDecoder(fwd, adapter, k, fwd.deviceDrafter(), batch);
                            List<int[]> ids = new ArrayList<>();
                            for (GenerationResult r : d.generateAll(requests)) {
                                ids.add(r.generatedIds());
                                for (long a : r.stats().draftsAccepted()) {
                                    accepted += a;
                                }
                            }
                            if (reference == null) {
                                reference = ids;
                            }
                            for (int i = 0; i < ids.size(); i++) {
                                assertArrayEquals(reference.get(i), ids.get(i), kind + " batch " + batch + " graphs "
                                        + graphs + ": request " + i);
                            }
                        }
                    }
                }
                Set<String> texts = new HashSet<>();
                for (int i = 0; i < 3; i++) { // requests i and i + 3 share a prompt, not a seed
                    texts.add(java.util.Arrays.toString(reference.get(i)));
                    texts.add(java.util.Arrays.toString(reference.get(i + 3)));
                }
                assertEquals(6, texts.size(), kind + ": different seeds must sample different texts");
                assertTrue(accepted > 20, kind + ": the device drafts are accepted while sampling, got " + accepted);
            }
        }
    }
}
