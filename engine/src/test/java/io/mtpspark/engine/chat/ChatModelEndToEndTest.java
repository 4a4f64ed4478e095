package io.mtpspark.engine.chat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.engine.cli.Main;
import io.mtpspark.engine.session.ModelBundle;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code generate --messages} on a random-weight chat model with the real Llama 3 tokenizer: the prompt is the
 * chat template's rendering with BOS once, the model's end-of-turn ids come from generation_config.json, and a stop
 * string cuts the byte-level BPE text exactly.
 */
class ChatModelEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void chatGenerationWithTemplateAndStops() throws Exception {
        Path model = RandomChatModel.write(dir.resolve("model"));
        Path messages = dir.resolve("m.json");
        Files.writeString(messages, "[{\"role\": \"user\", \"content\": \"Write a haiku about Spark.\"}]");
        JsonNode first = generate(model, messages, "--system", "You are a poet.");
        int[] prompt = ids(first.get("prompt_ids"));
        ModelBundle bundle = ModelBundle.load(model, null);
        ChatPrompts chat = new ChatPrompts(ChatConfig.load(model, null), bundle.tokenizer());
        assertArrayEquals(chat.encode(List.of(ChatMessage.system("You are a poet."),
                ChatMessage.user("Write a haiku about Spark.")), true), prompt);
        assertEquals(128000, prompt[0]);
        assertEquals(1, IntStream.of(prompt).filter(id -> id == 128000).count(), "BOS once");
        assertArrayEquals(new int[]{128001, 128009}, chat.config().stopTokenIds(bundle.tokenizer()));
        String text = first.get("text").asText();
        assertEquals(24, first.get("generated_tokens").asInt());
        assertTrue(text.length() > 10, text);
        // a stop string from the middle of that text: the run stops there and the text is cut before it
        String stop = text.substring(text.length() / 2, text.length() / 2 + 3);
        JsonNode cut = generate(model, messages, "--system", "You are a poet.", "--stop", stop);
        assertEquals("stop", cut.get("finish_reason").asText());
        assertEquals(text.substring(0, text.indexOf(stop)), cut.get("text").asText());
    }

    private static JsonNode generate(Path model, Path messages, String... more) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            String[] base = {"generate", "--model", model.toString(), "--messages", messages.toString(),
                    "--max-tokens", "24", "--json"};
            String[] args = java.util.Arrays.copyOf(base, base.length + more.length);
            System.arraycopy(more, 0, args, base.length, more.length);
            assertEquals(0, Main.execute(args));
        } finally {
            System.setOut(old);
        }
        return JSON.readTree(out.toString(StandardCharsets.UTF_8));
    }

    private static int[] ids(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
