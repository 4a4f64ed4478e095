package io.mtpspark.engine.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.engine.decode.StopCondition;
import io.mtpspark.engine.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Conversations to prompt ids for one chat model: renders with its template, encodes the text without adding
 * special tokens again (the template wrote BOS), and gives the stop condition of a chat turn. Shared by the CLI
 * and the job; one per executor (the template is compiled once and thread-safe).
 */
public final class ChatPrompts {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ChatConfig config;
    private final Tokenizer tokenizer;
    private final StopCondition turnStop;

    public ChatPrompts(ChatConfig config, Tokenizer tokenizer) {
        this.config = config;
        this.tokenizer = tokenizer;
        this.turnStop = new StopCondition(config.stopTokenIds(tokenizer), List.of(), tokenizer);
    }

    public ChatConfig config() {
        return config;
    }

    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return config.requireTemplate().render(messages, addGenerationPrompt);
    }

    public int[] encode(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return encodeText(render(messages, addGenerationPrompt));
    }

    /** Ids of an already rendered prompt (no special tokens added: the template wrote them). */
    public int[] encodeText(String rendered) {
        return tokenizer.encode(rendered, false);
    }

    /** Stops at the model's end-of-turn tokens (and the given stop strings). */
    public StopCondition stop(List<String> stopStrings) {
        return turnStop.withStrings(stopStrings);
    }

    /** A conversation with {@code system} put first when it has no system message of its own (null: none). */
    public static List<ChatMessage> withSystem(List<ChatMessage> messages, String system) {
        if (system == null || messages.stream().anyMatch(m -> m.role().equals("system"))) {
            return messages;
        }
        List<ChatMessage> out = new ArrayList<>(messages.size() + 1);
        out.add(ChatMessage.system(system));
        out.addAll(messages);
        return out;
    }

    /**
     * Parses {@code [{"role": …, "content": …}, …]}; a malformed list, an unknown role or empty content is an
     * {@link IllegalArgumentException} naming the message and the field.
     */
    public static List<ChatMessage> parseMessages(String json) {
        JsonNode list;
        try {
            list = JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("messages are not valid JSON: " + e.getOriginalMessage());
        }
        return messages(list);
    }

    public static List<ChatMessage> messages(JsonNode list) {
        if (list == null || !list.isArray()) {
            throw new IllegalArgumentException("messages must be a JSON list of {role, content} objects");
        }
        if (list.isEmpty()) {
            throw new IllegalArgumentException("messages is an empty list");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            if (!m.isObject() || !m.path("role").isTextual() || !(m.path("content").isTextual() || m.path("content").isNull() || m.path("content").isMissingNode())) {
                throw new IllegalArgumentException("messages[" + i + "] must be an object with a string role and "
                        + "content, got " + m);
            }
            try {
                out.add(new ChatMessage(m.path("role").asText(), m.path("content").isTextual()
                        ? m.path("content").asText() : null));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("messages[" + i + "]: " + e.getMessage());
            }
        }
        return out;
    }
}
