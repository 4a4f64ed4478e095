package io.mtpspark.jobs.chat;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.chat.ChatConfig;
import io.mtpspark.engine.chat.ChatMessage;
import io.mtpspark.engine.chat.ChatPrompts;
import io.mtpspark.engine.decode.StopCondition;
import io.mtpspark.engine.session.GenerationChecks;
import io.mtpspark.engine.tokenizer.Tokenizer;
import io.mtpspark.jobs.schema.PromptRow;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns an input row into what the decoder needs: its prompt ids and its stop condition. A row with
 * {@code messages} is rendered with the model's chat template (the job's {@code --system} put first when the
 * conversation has none); a {@code prompt} row is a single user turn through the template when the job chats
 * ({@code --chat} or {@code --system}), else raw text. Chat rows stop at the model's end-of-turn tokens; every row
 * stops at the job's and its own stop strings. Problems (malformed messages, unknown role, empty content, a template
 * that raises) are {@link IllegalArgumentException}s / {@link EngineException}s naming the field: the caller makes
 * them error rows. The chat config is read once per executor JVM and model.
 */
public final class RowPrompts {
    private static final Map<String, ChatConfig> CONFIGS = new ConcurrentHashMap<>();

    private final ChatSettings settings;
    private final Tokenizer tokenizer;
    private final String modelFile;
    private ChatConfig config; // read on first chat row
    private ChatPrompts chat;

    /** What one row became. */
    public record Prepared(int[] ids, StopCondition stop) {
    }

    public RowPrompts(ChatSettings settings, Tokenizer tokenizer, String modelFile) {
        this.settings = settings;
        this.tokenizer = tokenizer;
        this.modelFile = modelFile;
    }

    public Prepared prepare(PromptRow row) {
        List<String> stops = new ArrayList<>(settings.stop());
        if (row.stop() != null) {
            row.stop().stream().filter(s -> s != null && !s.isEmpty() && !stops.contains(s)).forEach(stops::add);
        }
        List<ChatMessage> conversation = conversation(row);
        if (conversation == null) {
            int[] ids = tokenizer.encode(decodePrompt(row.promptBytes()));
            return new Prepared(ids, stops.isEmpty() ? StopCondition.NONE : new StopCondition(null, stops, tokenizer));
        }
        ChatPrompts c = chat();
        return new Prepared(c.encode(conversation, true), c.stop(stops));
    }

    /** The conversation a chat row stands for (system message included), or null for a raw prompt. */
    public List<ChatMessage> conversation(PromptRow row) {
        if (row.messagesJson() != null) {
            return ChatPrompts.withSystem(ChatPrompts.parseMessages(row.messagesJson()), settings.system());
        }
        if (settings.chat() || settings.system() != null) {
            return ChatPrompts.withSystem(List.of(ChatMessage.user(decodePrompt(row.promptBytes()))),
                    settings.system());
        }
        return null;
    }

    /** The prompt text as the model sees it (the rendered template for chat rows); needs no tokenizer. */
    public String promptText(PromptRow row) {
        List<ChatMessage> conversation = conversation(row);
        return conversation == null ? decodePrompt(row.promptBytes())
                : config().requireTemplate().render(conversation, true);
    }

    private ChatPrompts chat() {
        if (chat == null) {
            config().requireTemplate();
            chat = new ChatPrompts(config(), tokenizer);
        }
        return chat;
    }

    private ChatConfig config() {
        if (config == null) {
            Path model = Path.of(modelFile);
            Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
            Path template = settings.chatTemplate() == null ? null : Path.of(settings.chatTemplate());
            config = CONFIGS.computeIfAbsent(dir + "\n" + template, k -> ChatConfig.load(dir, template));
        }
        return config;
    }

    /** Strict UTF-8: a prompt with invalid bytes is an error row, never silently "repaired". */
    public static String decodePrompt(byte[] bytes) {
        if (bytes == null) {
            throw new IllegalArgumentException("prompt is null");
        }
        GenerationChecks.promptBytes("prompt", bytes.length);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("prompt is not valid UTF-8 (" + e.getMessage() + ")");
        }
        return GenerationChecks.prompt("prompt", text);
    }

    /**
     * A sample's seed: the row's (or the job's) seed for a single sample, so n = 1 runs are unchanged; with
     * n > 1, a mix of (seed, id, sample index), distinct per sample and the same on every rerun.
     */
    public static long sampleSeed(long seed, String id, int sampleIndex, int n) {
        if (n <= 1) {
            return seed;
        }
        long h = seed * 0x9E3779B97F4A7C15L;
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ b) * 0x100000001B3L;
        }
        h ^= sampleIndex * 0xC2B2AE3D27D4EB4FL;
        // splitmix64 finaliser
        h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
        h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
        return h ^ (h >>> 31);
    }
}
