package io.mtpspark.engine.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a chat model's Hugging Face files say about chat: the {@code chat_template} and special tokens of
 * {@code tokenizer_config.json} (or a template file given instead), and the tokens that end a turn: the
 * {@code eos_token_id}s of {@code generation_config.json} (Llama 3 Instruct: {@code <|end_of_text|>},
 * {@code <|eom_id|>}, {@code <|eot_id|>}) together with the config's {@code eos_token} (Qwen: {@code <|im_end|>}).
 */
public record ChatConfig(ChatTemplate template, Map<String, String> specialTokens, List<Integer> generationEosIds) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Reads a model or tokenizer directory (or a {@code tokenizer_config.json} path); {@code templateFile}, when
     * given, replaces the config's template. A directory without a config yields no template and no special tokens.
     */
    public static ChatConfig load(Path dirOrConfig, Path templateFile) {
        Path config = Files.isDirectory(dirOrConfig) ? dirOrConfig.resolve("tokenizer_config.json") : dirOrConfig;
        Path dir = config.toAbsolutePath().getParent();
        Map<String, String> tokens = new LinkedHashMap<>();
        String source = null;
        if (Files.isRegularFile(config)) {
            JsonNode root = read(config);
            root.fields().forEachRemaining(f -> {
                if (f.getKey().endsWith("_token") && !f.getValue().isNull()) {
                    tokens.put(f.getKey(), f.getValue().isObject() ? f.getValue().path("content").asText()
                            : f.getValue().asText());
                }
            });
            JsonNode t = root.path("chat_template");
            if (t.isTextual()) {
                source = t.asText();
            } else if (t.isArray()) { // [{name, template}, ...]: the "default" one
                for (JsonNode named : t) {
                    if ("default".equals(named.path("name").asText())) {
                        source = named.path("template").asText();
                    }
                }
            }
        } else if (!Files.isDirectory(dirOrConfig)) {
            throw new EngineException(dirOrConfig, "tokenizer config not found");
        }
        if (templateFile != null) {
            try {
                source = Files.readString(templateFile);
            } catch (IOException e) {
                throw new EngineException(templateFile, "cannot read chat template: " + e.getMessage(), e);
            }
        }
        List<Integer> eos = new ArrayList<>();
        Path generation = dir.resolve("generation_config.json");
        if (Files.isRegularFile(generation)) {
            JsonNode e = read(generation).path("eos_token_id");
            if (e.isArray()) {
                e.forEach(id -> eos.add(id.asInt()));
            } else if (e.isInt()) {
                eos.add(e.asInt());
            }
        }
        return new ChatConfig(source == null ? null : ChatTemplate.of(source, tokens), Map.copyOf(tokens),
                List.copyOf(eos));
    }

    /** The template, or a clear error naming what to pass when the model has none. */
    public ChatTemplate requireTemplate() {
        if (template == null) {
            throw new EngineException("the model has no chat_template in tokenizer_config.json; pass a template "
                    + "file (--chat-template / --template)");
        }
        return template;
    }

    /** Ids that end a chat turn: generation_config's eos ids and the config's eos_token, as the tokenizer has them. */
    public int[] stopTokenIds(Tokenizer tokenizer) {
        Set<Integer> ids = new LinkedHashSet<>(generationEosIds);
        String eos = specialTokens.get("eos_token");
        if (eos != null) {
            tokenizer.tokenId(eos).ifPresent(ids::add);
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private static JsonNode read(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new EngineException(file, "invalid JSON: " + e.getMessage(), e);
        }
    }
}
