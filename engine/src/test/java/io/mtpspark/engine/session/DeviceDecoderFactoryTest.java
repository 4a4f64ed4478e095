package io.mtpspark.engine.session;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.GenerationRequest;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.device.DeviceBackend;
import io.mtpspark.engine.device.ElementType;
import io.mtpspark.engine.device.EmulatedDevice;
import io.mtpspark.engine.device.EmulatorBuild;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tokenizer.Llama2cTokenizer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The decode path the CLI and bench take on a device backend: greedy-only decoders verify, compact and draft on the
 * device and give the autoregressive tokens (batch 1 and 4); decoders that may sample keep verification on the host
 * (and sample); {@code -Dmtp.device.verify=false} switches the device path off.
 */
class DeviceDecoderFactoryTest {

    @Test
    void greedyDecodersOnADeviceBackendRunMtpOnTheDevice() {
        String why = EmulatorBuild.unavailableReason();
        assumeTrue(why == null, () -> "device emulator unavailable: " + why);
        LlamaModel model = TestModels.stories();
        MtpAdapter adapter = MtpAdapter.load(TestModels.storiesDir().resolve("mtp-adapter.safetensors"), model);
        Llama2cTokenizer tok = Llama2cTokenizer.load(TestModels.tok512(), model.config().vocabSize());
        List<GenerationRequest> requests = new ArrayList<>();
        List<int[]> expected = new ArrayList<>();
        AutoregressiveDecoder cpu = new AutoregressiveDecoder(new LlamaForward(model, new CpuBackend(1), 64, 512));
        for (String s : new String[]{"Once upon a time", "The little dog", "Max had a red ball"}) {
            int[] p = tok.encode(s);
            requests.add(new GenerationRequest(p, 20, SamplingOptions.GREEDY));
            expected.add(cpu.generate(p, 20, SamplingOptions.GREEDY).generatedIds());
        }
        try (DeviceBackend backend = new DeviceBackend(EmulatedDevice.open(), ElementType.F32, new CpuBackend(1))) {
            for (String name : DecoderFactory.NAMES) {
                for (int batch : new int[]{1, 4}) {
                    Decoder d = DecoderFactory.create(name, model, backend, adapter, 4, 256, batch, true);
                    if (name.equals("auto")) { // its steps switch layout and k: verified on the host
                        assertNull(d.forward().verdicts(), "auto: verification on the host");
                    } else {
                        assertNotNull(d.forward().verdicts(), name + ": verification on the device");
                    }
                    List<GenerationResult> got = d.generateAll(requests);
                    for (int i = 0; i < got.size(); i++) {
                        assertArrayEquals(expected.get(i), got.get(i).generatedIds(), name + " batch " + batch
                                + " request " + i);
                    }
                    ((AutoCloseable) d.forward()).close();
                }
            }
            Decoder sampling = DecoderFactory.create("quadratic", model, backend, adapter, 4, 256, 1, false);
            assertNull(sampling.forward().verdicts(), "a decoder that may sample verifies from the logits");
            assertEquals(12, sampling.generate(requests.get(0).promptIds(), 12,
                    new SamplingOptions(0.8f, 0, 1f, 3L)).generatedIds().length);
            System.setProperty("mtp.device.verify", "false");
            try {
                assertNull(DecoderFactory.create("linear", model, backend, adapter, 4, 256, 1, true).forward()
                        .verdicts(), "-Dmtp.device.verify=false keeps verification on the host");
            } finally {
                System.clearProperty("mtp.device.verify");
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
