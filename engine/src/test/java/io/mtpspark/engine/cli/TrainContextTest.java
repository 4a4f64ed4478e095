package io.mtpspark.engine.cli;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.model.HfModelWriter;
import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.model.RandomModel;
import io.mtpspark.engine.safetensors.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train} on a model whose context is shorter than the sequences it would build: self-distilled and corpus
 * sequences are cut to the context (every token runs through the frozen model; the k masks of a position only ever
 * sit on positions of the sequence), and a seed prompt that cannot fit is refused up front with the numbers (exit 2,
 * one line) instead of a worker crashing mid-way.
 */
class TrainContextTest {
    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();
    private final ByteArrayOutputStream out = console.out;
    private final ByteArrayOutputStream err = console.err;

    /** A random 32-dim model with 128 positions and the stories tokenizer's 512-token vocabulary. */
    private static Path shortContextModel(Path dir) throws Exception {
        return shortContextModel(dir, 128);
    }

    private static Path shortContextModel(Path dir, int positions) throws Exception {
        LlamaConfig c = new LlamaConfig("LlamaForCausalLM", 32, 64, 1, 4, 4, 512, positions, 8, 10000.0, 1e-5f, null,
                false, false, 1, 2, false);
        Path model = dir.resolve("short");
        HfModelWriter.write(RandomModel.create(c, 3), model, DType.F32);
        Files.copy(TestModels.tok512(), model.resolve("tokenizer.bin"));
        return model;
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void selfDistillationFitsTheContext(@TempDir Path dir) throws Exception {
        Path model = shortContextModel(dir);
        Path seeds = Files.writeString(dir.resolve("seed.txt"), "Once upon a time\nLily wanted to\n");
        Path adapter = dir.resolve("a.safetensors");
        int rc = Main.execute("train", "--model", model.toString(), "--k", "4", "--rank", "4", "--self-distill",
                seeds.toString(), "--steps", "5", "--batch", "2", "--threads", "2", "--checkpoint-every", "0", "--out",
                adapter.toString());
        assertEquals(0, rc, stderr());
        assertTrue(Files.size(adapter) > 0);
        assertTrue(stderr().contains("sequences limited to the model's context of 128 tokens"), stderr());
    }

    @Test
    void corpusLinesAreCutToTheContext(@TempDir Path dir) throws Exception {
        Path model = shortContextModel(dir);
        Path corpus = Files.writeString(dir.resolve("corpus.txt"),
                "Once upon a time there was a little dog. ".repeat(40) + "\n");
        int rc = Main.execute("train", "--model", model.toString(), "--k", "4", "--rank", "4", "--data",
                corpus.toString(), "--steps", "2", "--batch", "1", "--threads", "1", "--checkpoint-every", "0",
                "--out", dir.resolve("a.safetensors").toString());
        assertEquals(0, rc, stderr());
        assertTrue(stderr().contains("data: 1 sequences, 128 tokens"), stderr());
    }

    @Test
    void refusesASeedPromptLongerThanTheContextWithTheNumbers(@TempDir Path dir) throws Exception {
        Path model = shortContextModel(dir, 16);
        Path seeds = Files.writeString(dir.resolve("seed.txt"), "Once upon a time\n"
                + "Once upon a time there was a little dog named Max who liked to run\n");
        assertEquals(2, Main.execute("train", "--model", model.toString(), "--k", "4", "--rank", "4",
                "--self-distill", seeds.toString(), "--steps", "1", "--out", dir.resolve("a.safetensors").toString()));
        String line = stderr().lines().filter(l -> l.startsWith("error:")).findFirst().orElse(stderr());
        assertTrue(line.contains(seeds + ": seed prompt 2 is "), line);
        assertTrue(line.contains("training sequences hold at most 16 tokens (the model's context)"), line);
        assertTrue(stderr().strip().endsWith(line), "one line, nothing after it: " + stderr());
    }

}
