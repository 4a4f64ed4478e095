package io.mtpspark.engine.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.tokenizer.Tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a training corpus: JSONL (one object per line with {@code text}, or {@code prompt} + {@code completion}
 * where only the completion carries loss) or plain text (one document per non-empty line). Sequences longer than
 * {@code maxLength} tokens are cut. A malformed line is reported with its file and line number.
 */
public final class CorpusReader {
    private CorpusReader() {
    }

    public static List<TrainingSequence> read(Path file, Tokenizer tokenizer, int maxLength) {
        if (!Files.isRegularFile(file)) {
            throw new EngineException(file, "corpus file not found");
        }
        boolean jsonl = file.getFileName().toString().endsWith(".jsonl");
        ObjectMapper json = new ObjectMapper();
        List<TrainingSequence> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                int[] ids;
                int lossStart = 0;
                if (jsonl) {
                    JsonNode n;
                    try {
                        n = json.readTree(line);
                    } catch (IOException e) {
                        throw new EngineException(file, "line " + lineNo + ": invalid JSON");
                    }
                    if (n.hasNonNull("text")) {
                        ids = tokenizer.encode(n.get("text").asText());
                    } else if (n.hasNonNull("prompt") && n.hasNonNull("completion")) {
                        int[] p = tokenizer.encode(n.get("prompt").asText());
                        int[] full = tokenizer.encode(n.get("prompt").asText() + n.get("completion").asText());
                        ids = full;
                        lossStart = Math.max(0, p.length - 1);
                    } else {
                        throw new EngineException(file, "line " + lineNo + ": expected a \"text\" field or "
                                + "\"prompt\" and \"completion\"");
                    }
                } else {
                    ids = tokenizer.encode(line);
                }
                if (ids.length > maxLength) {
                    ids = Arrays.copyOf(ids, maxLength);
                }
                if (ids.length >= 2 && lossStart <= ids.length - 2) {
                    out.add(new TrainingSequence(ids, lossStart));
                }
            }
        } catch (IOException e) {
            throw new EngineException(file, "cannot read corpus: " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new EngineException(file, "corpus holds no usable sequence (each needs at least 2 tokens)");
        }
        return out;
    }
}
