package io.mtpspark.engine.tokenizer;

import io.mtpspark.engine.TestModels;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPInputStream;

/**
 * The real tokenizers the project ships as test data under {@code data/tokenizers/} (Llama 3, Qwen3, Llama 2 HF;
 * see SOURCES.md there). Their {@code tokenizer.json} is stored gzipped to keep the repository small; this
 * unpacks each once into {@code target/real-tokenizers/NAME/} beside its {@code tokenizer_config.json}, giving a
 * directory laid out like a Hugging Face model's.
 */
public final class RealTokenizers {
    private RealTokenizers() {
    }

    public static Path data() {
        return TestModels.repoRoot().resolve("data/tokenizers");
    }

    public static Path llama3() {
        return unpacked("llama3");
    }

    public static Path qwen3() {
        return unpacked("qwen3");
    }

    public static Path llama2Hf() {
        return unpacked("llama2-hf");
    }

    /** llama2.c's tokenizer.bin (the Llama 2 vocabulary in llama2.c's format). */
    public static Path llama2c() {
        return data().resolve("llama2c/tokenizer.bin");
    }

    public static Path vectors() {
        return data().resolve("llamacpp-vectors");
    }

    public static Path chatTemplates() {
        return TestModels.repoRoot().resolve("data/chat-templates");
    }

    private static synchronized Path unpacked(String name) {
        Path src = data().resolve(name);
        Path dir = TestModels.repoRoot().resolve("target/real-tokenizers").resolve(name);
        try {
            Files.createDirectories(dir);
            Path json = dir.resolve("tokenizer.json");
            Path gz = src.resolve("tokenizer.json.gz");
            if (!Files.exists(json) || Files.getLastModifiedTime(json).compareTo(Files.getLastModifiedTime(gz)) < 0) {
                Path tmp = Files.createTempFile(dir, "tokenizer", ".tmp");
                try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                }
                Files.move(tmp, json, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            try (var files = Files.list(src)) {
                for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".json")).toList()) {
                    Files.copy(f, dir.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack the " + name + " tokenizer", e);
        }
    }
}
