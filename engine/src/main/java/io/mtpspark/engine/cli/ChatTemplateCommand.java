package io.mtpspark.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.chat.ChatConfig;
import io.mtpspark.engine.chat.ChatMessage;
import io.mtpspark.engine.chat.ChatPrompts;
import io.mtpspark.engine.tokenizer.HfTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code chat-template}: renders a conversation with the model's chat template (or {@code --template FILE}) and
 * tokenizes it as the model will see it, so a user can check a model directory before a big run.
 */
@Command(name = "chat-template", mixinStandardHelpOptions = true,
        description = "Render a conversation with a chat template and print the prompt (and its ids with --json).")
final class ChatTemplateCommand implements Callable<Integer> {
    @Option(names = "--tokenizer", required = true,
            description = "directory with tokenizer.json + tokenizer_config.json, or the tokenizer_config.json")
    Path tokenizer;

    @Option(names = "--template", description = "Jinja chat template file (default: the config's "
            + "chat_template)")
    Path template;

    @Option(names = "--messages", description = "JSON file with a list of {role, content} (default: none; "
            + "give --messages or --jsonl)")
    Path messages;

    @Option(names = "--jsonl", description = "one {\"messages\": […], \"add_generation_prompt\": true} per "
            + "line (default: none)")
    Path jsonl;

    @Option(names = "--no-generation-prompt", description = "do not open the assistant's turn at the end")
    boolean noGenerationPrompt;

    @Option(names = "--json", description = "print {\"text\": …, \"ids\": […]}")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if ((messages == null) == (jsonl == null)) {
            throw new IllegalArgumentException("give exactly one of --messages, --jsonl");
        }
        if (template != null && !Files.isRegularFile(template)) {
            throw new EngineException(template, "--template file not found");
        }
        Path dir = Files.isDirectory(tokenizer) ? tokenizer : tokenizer.toAbsolutePath().getParent();
        if (!Files.exists(tokenizer)) {
            throw new EngineException(tokenizer, "--tokenizer not found");
        }
        ChatConfig config = ChatConfig.load(Files.isDirectory(tokenizer) ? dir : tokenizer, template);
        config.requireTemplate();
        try (HfTokenizer tok = TokenizerFiles.load(tokenizer)) {
            ChatPrompts prompts = new ChatPrompts(config, tok);
            if (jsonl != null) {
                JsonLines.each(jsonl, System.out, v -> {
                    if (!v.isObject()) {
                        throw new IllegalArgumentException("expected an object {\"messages\": […]}");
                    }
                    boolean gen = !v.has("add_generation_prompt") || v.get("add_generation_prompt").asBoolean();
                    return rendered(prompts, ChatPrompts.messages(v.get("messages")), gen);
                });
                return 0;
            }
            List<ChatMessage> conversation = ChatPrompts.messages(read(messages));
            if (json) {
                System.out.println(JsonLines.JSON.writeValueAsString(rendered(prompts, conversation,
                        !noGenerationPrompt)));
            } else {
                System.out.print(prompts.render(conversation, !noGenerationPrompt));
                System.out.flush();
            }
        }
        return 0;
    }

    static JsonNode read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new EngineException(file, "--messages file not found");
        }
        try {
            return JsonLines.JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new EngineException(file, "invalid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new EngineException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    private static ObjectNode rendered(ChatPrompts prompts, List<ChatMessage> conversation, boolean gen) {
        String text = prompts.render(conversation, gen);
        ObjectNode n = JsonLines.JSON.createObjectNode().put("text", text);
        n.setAll(TokenizeCommand.ids(prompts.encodeText(text)));
        return n;
    }
}
