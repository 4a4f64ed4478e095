package io.mtpspark.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.engine.model.Llama2cCheckpoint;
import io.mtpspark.engine.model.LlamaModel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Paths to the shipped stories260K model, its tokenizer and the C reference goldens. */
public final class TestModels {
    private static LlamaModel stories;

    private TestModels() {
    }

    public static Path repoRoot() {
        String root = System.getProperty("mtp.repo.root");
        Path p = root != null ? Path.of(root) : Path.of("..");
        return p.toAbsolutePath().normalize();
    }

    public static Path storiesDir() {
        return repoRoot().resolve("models/stories260K");
    }

    public static Path storiesBin() {
        return storiesDir().resolve("stories260K.bin");
    }

    public static Path tok512() {
        return storiesDir().resolve("tok512.bin");
    }

    public static synchronized LlamaModel stories() {
        if (stories == null) {
            stories = Llama2cCheckpoint.load(storiesBin());
        }
        return stories;
    }

    /** A golden greedy run from llama2.c's run.c. */
    public record Golden(String name, String prompt, int[] promptIds, int[] generatedIds, String runCStdout) {
        public int maxTokens() {
            return 257 - promptIds.length;
        }
    }

    public static List<Golden> greedyGoldens() {
        try (Stream<Path> files = Files.list(storiesDir().resolve("golden"))) {
            List<Golden> out = new ArrayList<>();
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("greedy_")).sorted().toList()) {
                JsonNode n = new ObjectMapper().readTree(f.toFile());
                out.add(new Golden(f.getFileName().toString(), n.get("prompt").asText(), ints(n.get("prompt_ids")),
                        ints(n.get("generated_ids")), n.get("run_c_stdout").asText()));
            }
            if (out.isEmpty()) {
                throw new IllegalStateException("no goldens under " + storiesDir());
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static JsonNode logitsGolden() {
        try {
            return new ObjectMapper().readTree(storiesDir().resolve("golden/logits_once_upon_a_time.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asInt();
        }
        return out;
    }
}
