package io.mtpspark.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.engine.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every chat template the project ships (official templates of Llama 3.x, Qwen2.5, Mistral Nemo, Phi-3.5, Gemma 2,
 * DeepSeek-R1-Distill, and the templates inside the Llama 3 / Qwen3 / Llama 2 tokenizer configs) renders every
 * reference conversation exactly as Python's jinja2 did under Hugging Face's settings
 * ({@code scripts/chat_template_reference.py} made {@code chat/reference-renderings.json}).
 */
class ChatTemplateReferenceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyTemplateMatchesJinja2() throws IOException {
        JsonNode ref = JSON.readTree(getClass().getResourceAsStream("/chat/reference-renderings.json"));
        Clock clock = Clock.fixed(LocalDateTime.parse(ref.get("strftime_now").asText()).toInstant(ZoneOffset.UTC),
                ZoneOffset.UTC);
        Map<String, ChatTemplate> templates = new HashMap<>();
        List<String> failures = new ArrayList<>();
        int cases = 0;
        for (JsonNode c : ref.get("cases")) {
            String name = c.get("template").asText();
            ChatTemplate t = templates.computeIfAbsent(name, n -> load(n, clock));
            List<ChatMessage> messages = messages(ref.get("conversations").get(c.get("conversation").asText()));
            boolean gen = c.get("add_generation_prompt").asBoolean();
            String label = name + " / " + c.get("conversation").asText() + " / gen=" + gen;
            cases++;
            try {
                String text = t.render(messages, gen);
                if (c.has("error")) {
                    failures.add(label + ": expected error " + c.get("error") + ", rendered " + JSON.writeValueAsString(text));
                } else if (!text.equals(c.get("text").asText())) {
                    failures.add(label + ":\n  expected " + JSON.writeValueAsString(c.get("text").asText())
                            + "\n  got      " + JSON.writeValueAsString(text));
                }
            } catch (TemplateException e) {
                if (!c.has("error") || !e.raised() || !e.getMessage().endsWith(c.get("error").asText())) {
                    failures.add(label + ": " + e.getMessage());
                }
            }
        }
        assertEquals(154, cases);
        assertTrue(failures.isEmpty(), failures.size() + " of " + cases + " renderings differ:\n"
                + String.join("\n", failures));
    }

    @Test
    void gemmaSystemMessageIsTheTemplatesOwnError() throws IOException {
        ChatTemplate gemma = ChatTemplate.of(Files.readString(templates().resolve("google-gemma-2-2b-it.jinja")),
                Map.of("bos_token", "<bos>"));
        TemplateException e = assertThrows(TemplateException.class, () -> gemma.render(
                List.of(ChatMessage.system("be brief"), ChatMessage.user("hi")), true));
        assertTrue(e.raised());
        assertEquals("chat template raised an exception: System role not supported", e.getMessage());
    }

    static List<ChatMessage> messages(JsonNode list) {
        List<ChatMessage> out = new ArrayList<>();
        for (JsonNode m : list) {
            out.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
        }
        return out;
    }

    private static Path templates() {
        return TestModels.repoRoot().resolve("data/chat-templates");
    }

    private static ChatTemplate load(String name, Clock clock) {
        try {
            Path p = TestModels.repoRoot().resolve(name);
            if (name.endsWith(".json")) {
                JsonNode config = JSON.readTree(p.toFile());
                Map<String, String> tokens = new HashMap<>();
                config.fields().forEachRemaining(f -> {
                    if (f.getKey().endsWith("_token") && !f.getValue().isNull()) {
                        tokens.put(f.getKey(), f.getValue().isObject() ? f.getValue().get("content").asText()
                                : f.getValue().asText());
                    }
                });
                return ChatTemplate.of(config.get("chat_template").asText(), tokens, clock);
            }
            return ChatTemplate.of(Files.readString(p), REFERENCE_TOKENS.get(p.getFileName().toString()), clock);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The special tokens the reference script renders each template file with. */
    private static final Map<String, Map<String, String>> REFERENCE_TOKENS = Map.of(
            "meta-llama-Llama-3.1-8B-Instruct.jinja", Map.of("bos_token", "<|begin_of_text|>", "eos_token", "<|eot_id|>"),
            "meta-llama-Llama-3.2-3B-Instruct.jinja", Map.of("bos_token", "<|begin_of_text|>", "eos_token", "<|eot_id|>"),
            "meta-llama-Llama-3.3-70B-Instruct.jinja", Map.of("bos_token", "<|begin_of_text|>", "eos_token", "<|eot_id|>"),
            "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja",
            Map.of("bos_token", "<｜begin▁of▁sentence｜>", "eos_token", "<｜end▁of▁sentence｜>"),
            "Qwen-Qwen2.5-7B-Instruct.jinja", Map.of("eos_token", "<|im_end|>", "pad_token", "<|endoftext|>"),
            "mistralai-Mistral-Nemo-Instruct-2407.jinja", Map.of("bos_token", "<s>", "eos_token", "</s>"),
            "microsoft-Phi-3.5-mini-instruct.jinja", Map.of("bos_token", "<s>", "eos_token", "<|endoftext|>"),
            "google-gemma-2-2b-it.jinja", Map.of("bos_token", "<bos>", "eos_token", "<eos>"));
}
