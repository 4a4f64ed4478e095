package io.mtpspark.engine.mtp;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.GenerationRequest;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.decode.QuadraticDecoder;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.CpuBackend;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The oracle drafter: batched quadratic decoding with it emits the autoregressive ids with every draft accepted. */
class OracleDrafterTest {
    @Test
    void everyDraftIsAcceptedAndTheOutputIsTheModels() {
        LlamaModel model = TestModels.stories();
        CpuBackend backend = new CpuBackend(1);
        List<int[]> prompts = List.of(new int[]{1, 403}, new int[]{1, 365, 167}, new int[]{1, 29, 77, 300});
        int tokens = 40;
        Decoder ar = new AutoregressiveDecoder(new LlamaForward(model, backend, 64, 256), 3);
        OracleDrafter oracle = OracleDrafter.decodedBy(ar, prompts, tokens);
        MtpAdapter adapter = MtpAdapter.random(model, 4, 4, 3);
        Decoder quadratic = new QuadraticDecoder(new LlamaForward(model, backend, 3 * 64, 256, 3 * 5),
                adapter, 4, oracle, 3);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int[] p : prompts) {
            requests.add(new GenerationRequest(p, tokens, SamplingOptions.GREEDY));
        }
        List<GenerationResult> expected = ar.generateAll(requests);
        List<GenerationResult> got = quadratic.generateAll(requests);
        for (int i = 0; i < prompts.size(); i++) {
            assertArrayEquals(expected.get(i).generatedIds(), got.get(i).generatedIds());
            // k + 1 = 5 tokens per pass but for the last, partial pass(es) and the prompt's block
            assertTrue(got.get(i).forwardPasses() <= tokens / 5 + 3, got.get(i).forwardPasses() + " passes");
        }
        assertEquals(5.0, OracleDrafter.acceptance(io.mtpspark.engine.decode.DecodeConfig.candidates(List.of(4), 25))
                .tokens("quadratic k=4"), 1e-12);
    }
}
