package io.mtpspark.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.session.ModelBundle;
import io.mtpspark.engine.session.TextGeneration;
import io.mtpspark.engine.session.TextGenerator;
import io.mtpspark.engine.tensor.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code generate}: one prompt in, text (or one JSON object) out. */
@Command(name = "generate", description = "Generate a continuation of a prompt.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    EngineOptions engine;

    @Option(names = "--prompt", required = true, description = "prompt text")
    String prompt;

    @Option(names = "--max-tokens", defaultValue = "256", description = "tokens to generate at most")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy")
    float temperature;

    @Option(names = "--top-p", defaultValue = "1", description = "nucleus sampling mass (1 = off)")
    float topP;

    @Option(names = "--top-k", defaultValue = "0", description = "keep the k most likely tokens (0 = off)")
    int topK;

    @Option(names = "--seed", defaultValue = "42", description = "sampling seed")
    long seed;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Option(names = "--decoder", defaultValue = "autoregressive",
            description = "autoregressive | linear | quadratic (default: ${DEFAULT-VALUE})")
    String decoder;

    @Override
    public Integer call() throws Exception {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("--max-tokens: expected a non-negative integer, got " + maxTokens);
        }
        SamplingOptions sampling = new SamplingOptions(temperature, topK, topP, seed);
        ModelBundle bundle = engine.load();
        try (Backend backend = engine.backendChoice().create(engine.threads)) {
            MtpAdapter adapter = engine.loadAdapter(bundle.model());
            TextGenerator generator = new TextGenerator(bundle, engine.decoder(decoder, bundle.model(), backend,
                    adapter));
            TextGeneration g = generator.generate(prompt, maxTokens, sampling);
            GenerationResult r = g.result();
            if (json) {
                ObjectMapper mapper = new ObjectMapper();
                ObjectNode n = mapper.createObjectNode();
                n.putPOJO("prompt_ids", r.promptIds());
                n.putPOJO("generated_ids", r.generatedIds());
                n.put("text", g.text());
                n.put("finish_reason", r.finishReason().label());
                n.put("prompt_tokens", r.promptIds().length);
                n.put("generated_tokens", r.generatedIds().length);
                n.put("forward_passes", r.forwardPasses());
                n.put("tokens_per_second", r.tokensPerSecond());
                n.put("decoder", generator.decoder().name());
                n.put("k", r.stats().k());
                n.put("tokens_per_pass", r.tokensPerPass());
                n.putPOJO("accept_histogram", r.stats().acceptHistogram());
                n.put("backend", backend.name());
                System.out.println(mapper.writeValueAsString(n));
            } else {
                System.out.println(prompt + g.text());
                System.out.printf("[prompt tokens %d, generated tokens %d, %.1f tokens/s, %.2f tokens/pass, %s, %s, "
                                + "%s]%n", r.promptIds().length, r.generatedIds().length, r.tokensPerSecond(),
                        r.tokensPerPass(), r.finishReason().label(), generator.decoder().name(), backend.name());
            }
        }
        return 0;
    }
}
