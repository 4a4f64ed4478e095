package io.mtpspark.engine.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mtpspark.engine.chat.ChatConfig;
import io.mtpspark.engine.chat.ChatPrompts;
import io.mtpspark.engine.decode.GenerationRequest;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.progress.ProgressMeter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.session.GenerationChecks;
import io.mtpspark.engine.session.ModelBundle;
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

    @Option(names = "--decoder", description = "auto | autoregressive | linear | quadratic (default: auto with "
            + "--adapter, else autoregressive); auto picks decoder and k per step from a cost calibration and the "
            + "adapter's acceptance table")
    String decoder;

    @Option(names = "--messages", description = "JSON file with a conversation ([{role, content}, …]), rendered with "
            + "the model's chat template; generates the assistant's reply (default: none, use --prompt)")
    Path messagesFile;

    @Option(names = "--chat-template", description = "Jinja chat template file (default: the model's "
            + "chat_template from tokenizer_config.json)")
    Path chatTemplate;

    @Option(names = "--system", description = "system message put first when the conversation has "
            + "none (default: none)")
    String system;

    @Option(names = "--stop", description = "stop string (repeatable): the text is cut before it "
            + "(default: none; the model's end-of-turn tokens always stop)")
    List<String> stops = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (messagesFile != null) {
            return chat();
        }
        GenerationChecks.maxTokens("--max-tokens", maxTokens);
        for (int i = 0; i < prompts.size(); i++) {
            GenerationChecks.prompt(prompts.size() == 1 ? "--prompt" : "--prompt " + (i + 1), prompts.get(i));
        }
        SamplingOptions sampling = new SamplingOptions(temperature, topK, topP, seed);
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
            String name = decoder != null ? decoder : adapter != null ? "auto" : "autoregressive";
            TextGenerator generator = new TextGenerator(bundle, engine.decoder(name, bundle.model(), backend,
                    adapter, batchSize, sampling.greedy()));
            List<TextGeneration> generations;
            if (!stops.isEmpty()) {
                var stop = new io.mtpspark.engine.decode.StopCondition(null, stops, bundle.tokenizer());
                generations = generator.generateRequests(all.stream().map(p -> new GenerationRequest(
                        bundle.tokenizer().encode(p), maxTokens, sampling, stop)).toList());
            } else if (promptsFile == null) {
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

    /** {@code --messages}: one conversation through the chat template, stopping at the model's end of turn. */
    private int chat() throws Exception {
        if (!prompts.isEmpty() || promptsFile != null) {
            throw new IllegalArgumentException("--messages replaces --prompt/--prompts; give one or the other");
        }
        var conversation = ChatPrompts.withSystem(ChatPrompts.messages(ChatTemplateCommand.read(messagesFile)),
                system);
        ModelBundle bundle = engine.load();
        Path dir = java.nio.file.Files.isDirectory(engine.model) ? engine.model
                : engine.model.toAbsolutePath().getParent();
        ChatPrompts chat = new ChatPrompts(ChatConfig.load(dir, chatTemplate), bundle.tokenizer());
        String rendered = chat.render(conversation, true);
        GenerationRequest request = new GenerationRequest(chat.encodeText(rendered), maxTokens,
                new SamplingOptions(temperature, topK, topP, seed), chat.stop(stops));
        try (Backend backend = engine.backendChoice().create(engine.threads)) {
            MtpAdapter adapter = engine.loadAdapter(bundle.model());
            String name = decoder != null ? decoder : adapter != null ? "auto" : "autoregressive";
            TextGenerator generator = new TextGenerator(bundle, engine.decoder(name, bundle.model(), backend,
                    adapter, 1, request.sampling().greedy()));
            print(rendered, generator.generateRequests(List.of(request)).get(0), generator, backend);
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
