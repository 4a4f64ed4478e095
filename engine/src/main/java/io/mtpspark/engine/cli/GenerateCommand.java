package io.mtpspark.engine.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.progress.ProgressMeter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.session.ModelBundle;
import io.mtpspark.engine.session.PromptText;
import io.mtpspark.engine.session.TextGeneration;
import io.mtpspark.engine.session.TextGenerator;
import io.mtpspark.engine.tensor.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code generate}: prompts in (repeat {@code --prompt} or give {@code --prompts FILE}), for each its text (or one
 * JSON object per line) out, in prompt order; {@code --batch-size} decodes that many together.
 */
@Command(name = "generate", description = "Generate continuations of prompts.")
final class GenerateCommand implements Callable<Integer> {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Mixin
    EngineOptions engine;

    @Option(names = "--prompt", description = "prompt text (repeatable; required unless --prompts)")
    List<String> prompts = new ArrayList<>();

    @Option(names = "--prompts", description = "file with one prompt per line, blank lines skipped (default: none)")
    Path promptsFile;

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

    @Option(names = "--batch-size", defaultValue = "1", description = "prompts decoded together (continuous "
            + "batching)")
    int batchSize;

    @Mixin
    ProgressOptions progressOptions;

    @Option(names = "--json", description = "print one JSON object per prompt, one per line")
    boolean json;

    @Option(names = "--decoder", defaultValue = "autoregressive",
            description = "autoregressive | linear | quadratic")
    String decoder;

    @Override
    public Integer call() throws Exception {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("--max-tokens: expected a non-negative integer, got " + maxTokens);
        }
        SamplingOptions sampling = new SamplingOptions(temperature, topK, topP, seed);
        for (int i = 0; i < prompts.size(); i++) {
            try {
                PromptText.require(prompts.get(i));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--prompt " + (i + 1) + ": " + e.getMessage());
            }
        }
        List<String> all = new ArrayList<>(prompts);
        if (promptsFile != null) {
            Files.readAllLines(promptsFile, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank())
                    .forEach(all::add);
        }
        if (all.isEmpty()) {
            throw new IllegalArgumentException("no prompt: give --prompt TEXT or --prompts FILE");
        }
        ModelBundle bundle = engine.load();
        try (Backend backend = engine.backendChoice().create(engine.threads)) {
            MtpAdapter adapter = engine.loadAdapter(bundle.model());
            TextGenerator generator = new TextGenerator(bundle, engine.decoder(decoder, bundle.model(), backend,
                    adapter, batchSize, sampling.greedy()));
            List<TextGeneration> generations;
            if (promptsFile == null) {
                generations = generator.generateAll(all, maxTokens, sampling);
            } else {
                // a prompts file can take hours: say how far it got, on stderr so stdout stays the results
                ProgressMeter progress = progressOptions.meter("prompts", all.size());
                long[] counts = new long[2];
                generations = generator.generateAll(all, maxTokens, sampling, r -> {
                    counts[0]++;
                    counts[1] += r.generatedIds().length;
                    progress.update(counts[0], counts[1], 0);
                });
                progress.finish(counts[0], counts[1], 0);
            }
            for (int i = 0; i < all.size(); i++) {
                print(all.get(i), generations.get(i), generator, backend);
            }
        }
        return 0;
    }

    private void print(String prompt, TextGeneration g, TextGenerator generator, Backend backend)
            throws JsonProcessingException {
        GenerationResult r = g.result();
        if (json) {
            ObjectNode n = MAPPER.createObjectNode();
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
            n.put("batch_size", generator.decoder().batchSize());
            System.out.println(MAPPER.writeValueAsString(n));
        } else {
            System.out.println(prompt + g.text());
            System.out.printf("[prompt tokens %d, generated tokens %d, %.1f tokens/s, %.2f tokens/pass, %s, %s, "
                            + "%s]%n", r.promptIds().length, r.generatedIds().length, r.tokensPerSecond(),
                    r.tokensPerPass(), r.finishReason().label(), generator.decoder().name(), backend.name());
        }
    }
}
