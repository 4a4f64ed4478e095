package io.mtpspark.engine.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.session.ModelBundle;
import io.mtpspark.engine.session.TextGenerator;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tokenizer.Llama2cTokenizer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Stop strings keep the exactness promise: greedy quadratic MTP (batch 1 and batch 4) stops at exactly the token
 * where greedy autoregressive decoding stops, the text is cut before the stop string, and the finish reason is
 * {@code stop}; stop strings that span token boundaries and ones completed inside an accepted draft included.
 */
class StopStringTest {
    @Test
    void mtpStopsWhereAutoregressiveStops() throws Exception {
        LlamaModel model = TestModels.stories();
        MtpAdapter adapter = MtpAdapter.load(TestModels.storiesDir().resolve("mtp-adapter.safetensors"), model);
        Llama2cTokenizer tok = Llama2cTokenizer.load(TestModels.tok512(), 512);
        ModelBundle bundle = new ModelBundle(model, tok);
        CpuBackend backend = new CpuBackend(2);
        AutoregressiveDecoder ar = new AutoregressiveDecoder(new LlamaForward(model, backend, 64, 512));
        QuadraticDecoder q = new QuadraticDecoder(new LlamaForward(model, backend, 81, 512), adapter, 8);
        QuadraticDecoder q4 = new QuadraticDecoder(new LlamaForward(model, backend, 4 * 81, 512), adapter, 8,
                new io.mtpspark.engine.mtp.SamplerHeadDrafter(model, adapter, backend), 4);
        TextGenerator text = new TextGenerator(bundle, ar);
        List<String> prompts = Files.readAllLines(TestModels.repoRoot().resolve("data/openings/heldout.txt"))
                .subList(0, 8);
        List<GenerationRequest> requests = new ArrayList<>();
        List<GenerationResult> expected = new ArrayList<>();
        int insideDraft = 0;
        for (String p : prompts) {
            int[] ids = tok.encode(p);
            GenerationResult full = ar.generate(ids, 120, SamplingOptions.GREEDY);
            String fullText = text.decodeText(full);
            // a stop string from the middle of the text: 6 characters from about 40% in, spanning tokens
            String stop = fullText.substring(fullText.length() * 2 / 5, fullText.length() * 2 / 5 + 6);
            GenerationRequest r = new GenerationRequest(ids, 120, SamplingOptions.GREEDY,
                    new StopCondition(null, List.of("never-appears", stop), tok));
            GenerationResult a = ar.generateAll(List.of(r)).get(0);
            GenerationResult m = q.generateAll(List.of(r)).get(0);
            assertArrayEquals(a.generatedIds(), m.generatedIds(), p);
            assertEquals(FinishReason.STOP, a.finishReason());
            assertEquals(FinishReason.STOP, m.finishReason());
            assertEquals(stop, m.stopString());
            assertTrue(a.generatedIds().length < full.generatedIds().length, "the stop string ended it early");
            String cut = text.decodeText(m);
            assertEquals(fullText.substring(0, fullText.indexOf(stop)), cut, p);
            // the tokens before the stop are the unstopped run's: stopping only truncates
            assertArrayEquals(java.util.Arrays.copyOf(full.generatedIds(), a.generatedIds().length), a.generatedIds());
            if (m.forwardPasses() < m.generatedIds().length) {
                insideDraft++;
            }
            requests.add(r);
            expected.add(a);
        }
        assertTrue(insideDraft > 0, "some stop fell inside an accepted MTP block");
        List<GenerationResult> batched = q4.generateAll(requests);
        for (int i = 0; i < requests.size(); i++) {
            assertArrayEquals(expected.get(i).generatedIds(), batched.get(i).generatedIds(), prompts.get(i));
        }
    }

    @Test
    void stopTokenIdsEndTheSequenceAndLeaveTheText() {
        LlamaModel model = TestModels.stories();
        Llama2cTokenizer tok = Llama2cTokenizer.load(TestModels.tok512(), 512);
        AutoregressiveDecoder ar = new AutoregressiveDecoder(new LlamaForward(model, new CpuBackend(1), 64, 512));
        int[] ids = tok.encode("Once upon a time");
        GenerationResult full = ar.generate(ids, 60, SamplingOptions.GREEDY);
        int stopId = full.generatedIds()[10];
        int first = 0;
        while (full.generatedIds()[first] != stopId) {
            first++;
        }
        GenerationResult r = ar.generateAll(List.of(new GenerationRequest(ids, 60, SamplingOptions.GREEDY,
                new StopCondition(new int[]{stopId}, List.of(), null)))).get(0);
        assertEquals(first + 1, r.generatedIds().length);
        assertEquals(FinishReason.STOP, r.finishReason());
        String t = new TextGenerator(new ModelBundle(model, tok), ar).decodeText(r);
        assertEquals(tok.decode(ids[ids.length - 1], java.util.Arrays.copyOf(full.generatedIds(), first)), t);
    }
}
