package io.mtpspark.engine.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.tokenizer.HfTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tokenize}: text to token ids with a Hugging Face tokenizer (special tokens added as the tokenizer does). */
@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Print the token ids of a text.")
final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--tokenizer", required = true, description = "tokenizer.json or a directory holding it")
    Path tokenizer;

    @Option(names = "--text", description = "the text (default: none; give --text, --file or --jsonl)")
    String text;

    @Option(names = "--file", description = "a file whose whole content is the text, UTF-8 (default: none)")
    Path file;

    @Option(names = "--jsonl", description = "one JSON string per line; one {\"ids\": […]} per output line "
            + "(default: none)")
    Path jsonl;

    @Option(names = "--json", description = "print {\"ids\": […]} instead of space-separated ids")
    boolean json;

    @Override
    public Integer call() throws Exception {
        int given = (text != null ? 1 : 0) + (file != null ? 1 : 0) + (jsonl != null ? 1 : 0);
        if (given != 1) {
            throw new IllegalArgumentException("give exactly one of --text, --file, --jsonl");
        }
        try (HfTokenizer tok = TokenizerFiles.load(tokenizer)) {
            if (jsonl != null) {
                JsonLines.each(jsonl, System.out, v -> {
                    if (!v.isTextual()) {
                        throw new IllegalArgumentException("expected a JSON string, got " + v.getNodeType());
                    }
                    return ids(tok.encode(v.asText()));
                });
                return 0;
            }
            String input = text;
            if (file != null) {
                if (!Files.isRegularFile(file)) {
                    throw new EngineException(file, "--file not found");
                }
                input = Files.readString(file, StandardCharsets.UTF_8);
            }
            int[] ids = tok.encode(input);
            System.out.println(json ? JsonLines.JSON.writeValueAsString(ids(ids))
                    : Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        }
        return 0;
    }

    static ObjectNode ids(int[] ids) {
        ObjectNode n = JsonLines.JSON.createObjectNode();
        var a = n.putArray("ids");
        for (int id : ids) {
            a.add(id);
        }
        return n;
    }

}
