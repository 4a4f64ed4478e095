package io.mtpspark.engine.llama;

import com.fasterxml.jackson.databind.JsonNode;
import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.kvcache.KvCache;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tensor.ScalarBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** stories260K against the C reference (llama2.c run.c): greedy ids token for token, logits within 1e-4. */
class GoldenReferenceTest {

    static Stream<Backend> backends() {
        return Stream.of(new ScalarBackend(), new CpuBackend(2));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void greedyMatchesEveryGolden(Backend backend) {
        LlamaModel model = TestModels.stories();
        AutoregressiveDecoder decoder = new AutoregressiveDecoder(new LlamaForward(model, backend, 64, 512));
        for (TestModels.Golden g : TestModels.greedyGoldens()) {
            GenerationResult r = decoder.generate(g.promptIds(), g.maxTokens(), SamplingOptions.GREEDY);
            assertArrayEquals(g.generatedIds(), r.generatedIds(), g.name() + " on " + backend.name());
        }
        backend.close();
    }

    @Test
    void logitsMatchAtSixteenPositions() {
        LlamaModel model = TestModels.stories();
        JsonNode golden = TestModels.logitsGolden();
        LlamaForward fwd = new LlamaForward(model, new CpuBackend(1), 1, 512);
        KvCache cache = new KvCache(model.config(), 512);
        int vocab = model.config().vocabSize();
        for (JsonNode p : golden.get("positions")) {
            int pos = p.get("pos").asInt();
            fwd.forward(new int[]{p.get("input_id").asInt()}, new int[]{pos}, 1, AttentionMask.CAUSAL, cache,
                    new int[]{0}, 1);
            int[] expected = new int[]{p.get("argmax").asInt()};
            JsonNode logits = p.get("logits");
            assertEquals(vocab, logits.size());
            float maxDiff = 0;
            int argmax = 0;
            for (int i = 0; i < vocab; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(fwd.logits()[i] - (float) logits.get(i).asDouble()));
                if (fwd.logits()[i] > fwd.logits()[argmax]) {
                    argmax = i;
                }
            }
            assertEquals(expected[0], argmax, "argmax at position " + pos);
            assertEquals(0f, maxDiff, 1e-4f, "max |logit diff| at position " + pos);
        }
    }
}
