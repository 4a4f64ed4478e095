package io.mtpspark.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mtpspark.engine.EngineException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * {@code --jsonl FILE} for the tokenizer commands: one JSON value per input line, one JSON object per output line in
 * the same order; a line that fails gives {@code {"error": "line N: …"}} and the rest go on.
 */
final class JsonLines {
    static final ObjectMapper JSON = new ObjectMapper();

    private JsonLines() {
    }

    static void each(Path file, PrintStream out, Function<JsonNode, ObjectNode> work) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new EngineException(file, "--jsonl file not found");
        }
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int n = 0;
            for (String line; (line = in.readLine()) != null; ) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                ObjectNode result;
                try {
                    result = work.apply(JSON.readTree(line));
                } catch (IOException | RuntimeException e) {
                    result = JSON.createObjectNode().put("error", "line " + n + ": " + message(e));
                }
                out.println(JSON.writeValueAsString(result));
            }
        }
    }

    static String message(Exception e) {
        return e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? "invalid JSON: "
                + j.getOriginalMessage() : e.getMessage();
    }
}
