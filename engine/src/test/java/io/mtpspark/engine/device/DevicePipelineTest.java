package io.mtpspark.engine.device;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.GenerationRequest;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.decode.LinearDecoder;
import io.mtpspark.engine.decode.QuadraticDecoder;
import io.mtpspark.engine.decode.StopRule;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.ScalarBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pipelined step ({@link DeviceForward#pipeline}): step t + 1 is built on the device from step t's verdicts and
 * drafts ({@code mtp_next_block}) and queued before the host reads step t; the host uses it when its own block is the
 * predicted one. Greedy output equals CPU autoregressive decoding, autoregressive, linear and quadratic (device
 * drafts), batch 1 and 4 (five requests over four slots), with graphs on and off, with the acceptances of the
 * unpipelined forward (the same drafts); most decode steps come from the
 * pipeline and the guesses that fail (a prompt joins, a sequence ends) are discarded, costing one step each; linear
 * decoding, whose next block usually has another layout (no drafts after a rejection), stops being guessed for.
 */
class DevicePipelineTest {
    private static final int MAX_TOKENS = 12;
    private static DeviceApi device;
    private static DeviceModel weights;
    private static LlamaModel model;
    private static MtpAdapter adapter;
    private static List<int[]> prompts;
    private static List<int[]> expected;

    @BeforeAll
    static void open() {
        model = TestModels.stories();
        device = TestDevices.open();
        weights = DeviceModel.upload(device, model, ElementType.F32);
        adapter = MtpAdapter.load(TestModels.storiesDir().resolve("mtp-adapter.safetensors"), model);
        prompts = StoriesPrompts.openings(model);
        expected = StoriesPrompts.cpuGreedy(model, prompts, MAX_TOKENS);
    }

    @AfterAll
    static void close() {
        if (device != null) {
            weights.close();
            device.close();
        }
    }

    @Test
    void pipelinedDecodingEqualsAutoregressive() {
        int k = 4;
        int pipelined = 0;
        for (String kind : new String[]{"autoregressive", "linear", "quadratic"}) {
            int rows = kind.equals("autoregressive") ? 16 : kind.equals("linear") ? 2 * k + 1 : (k + 1) * (k + 1);
            for (int batch : new int[]{1, 4}) {
                List<GenerationResult> reference = null;
                // pipeline off (the reference), on with graphs, and for quadratic on without graphs
                for (int run = 0; run < (kind.equals("quadratic") ? 3 : 2); run++) {
                    boolean pipeline = run > 0;
                    boolean graphs = run < 2;
                    try (DeviceForward fwd = new DeviceForward(weights, batch * rows, 512, batch * (k + 1), batch,
                            new ScalarBackend()).verifyOnDevice(StopRule.of(model.config()).ids()).graphs(graphs)
                            .pipeline(pipeline)) {
                        if (!kind.equals("autoregressive")) {
                            fwd.draftOnDevice(adapter);
                        }
                        Decoder d = switch (kind) {
                            case "autoregressive" -> new AutoregressiveDecoder(fwd, batch);
                            case "linear" -> new LinearDecoder(fwd, adapter, k, fwd.deviceDrafter(), batch);
                            default -> new QuadraticDecoder(fwd, adapter, k, fwd.deviceDrafter(), batch);
                        };
                        List<GenerationRequest> requests = new ArrayList<>();
                        for (int i = 0; i < (batch == 1 ? 2 : prompts.size()); i++) {
                            requests.add(new GenerationRequest(prompts.get(i), MAX_TOKENS, SamplingOptions.GREEDY));
                        }
                        List<GenerationResult> got = d.generateAll(requests);
                        for (int i = 0; i < got.size(); i++) {
                            assertArrayEquals(expected.get(i), got.get(i).generatedIds(), kind + " batch " + batch
                                    + " graphs " + graphs + ": request " + i);
                        }
                        if (reference == null) {
                            reference = got;
                            continue;
                        }
                        for (int i = 0; i < got.size(); i++) { // the same drafts: the same acceptances
                            assertArrayEquals(reference.get(i).stats().acceptHistogram(),
                                    got.get(i).stats().acceptHistogram(), kind + " batch " + batch + " request " + i);
                        }
                        int[] counts = fwd.pipelineCounts();
                        System.out.println(kind + " batch " + batch + " graphs " + graphs + ": " + counts[0]
                                + " steps from the pipeline, " + counts[1] + " discarded");
                        assertTrue(kind.equals("linear") || counts[0] > 0, kind + " batch " + batch
                                + ": no step came from the pipeline");
                        pipelined += counts[0];
                        if (kind.equals("linear")) { // mostly another layout next: guessing backs off
                            assertTrue(counts[1] <= 6, kind + " batch " + batch + ": " + counts[1] + " discarded");
                        }
                    }
                }
            }
        }
        assertTrue(pipelined > 40, "steps from the pipeline: " + pipelined);
    }

    @Test
    void pipelineOffQueuesNothingAhead() {
        try (DeviceForward fwd = new DeviceForward(weights, 16, 512, 1, 1, new ScalarBackend())
                .verifyOnDevice(StopRule.of(model.config()).ids()).pipeline(false)) {
            int[] ids = new AutoregressiveDecoder(fwd).generate(prompts.get(0), MAX_TOKENS, SamplingOptions.GREEDY)
                    .generatedIds();
            assertArrayEquals(expected.get(0), ids);
            assertArrayEquals(new int[]{0, 0}, fwd.pipelineCounts());
        }
    }
}
