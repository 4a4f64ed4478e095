package io.mtpspark.engine.tokenizer;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Llama2cTokenizerTest {
    private final Llama2cTokenizer tok = Llama2cTokenizer.load(TestModels.tok512(), 512);

    @Test
    void encodesEveryGoldenPromptLikeRunC() {
        for (TestModels.Golden g : TestModels.greedyGoldens()) {
            assertArrayEquals(g.promptIds(), tok.encode(g.prompt()), g.name());
        }
    }

    @Test
    void decodesEveryGoldenToRunCText() {
        for (TestModels.Golden g : TestModels.greedyGoldens()) {
            int[] all = new int[g.promptIds().length + g.generatedIds().length];
            System.arraycopy(g.promptIds(), 0, all, 0, g.promptIds().length);
            System.arraycopy(g.generatedIds(), 0, all, g.promptIds().length, g.generatedIds().length);
            int n = all.length;
            if (all[n - 1] == Llama2cTokenizer.BOS) {
                n--; // run.c stops before printing the delimiter
            }
            String text = tok.decode(all[0], Arrays.copyOfRange(all, 1, n));
            assertEquals(g.runCStdout(), text + "\n", g.name());
        }
    }

    @Test
    void unknownCharactersFallBackToBytesAndRoundTrip() {
        String s = "Zoë ate 🍰";
        int[] ids = tok.encode(s);
        assertTrue(Arrays.stream(ids).anyMatch(id -> id >= 3 && id < 259), "expected byte-fallback tokens");
        assertEquals(s, tok.decode(Llama2cTokenizer.BOS, Arrays.copyOfRange(ids, 1, ids.length)));
    }

    @Test
    void emptyPromptIsJustBos() {
        assertArrayEquals(new int[]{1}, tok.encode(""));
    }

    @Test
    void vocabMismatchIsRejectedWithBothSizes() {
        EngineException e = assertThrows(EngineException.class, () -> Llama2cTokenizer.load(TestModels.tok512(), 32000));
        assertTrue(e.getMessage().contains("512") && e.getMessage().contains("32000"), e.getMessage());
    }

    @Test
    void truncatedFileIsNamed(@TempDir Path dir) throws Exception {
        byte[] bytes = Files.readAllBytes(TestModels.tok512());
        Path bad = dir.resolve("tok.bin");
        Files.write(bad, Arrays.copyOf(bytes, bytes.length - 3));
        EngineException e = assertThrows(EngineException.class, () -> Llama2cTokenizer.load(bad, 512));
        assertTrue(e.getMessage().startsWith(bad.toString()) && e.getMessage().contains("corrupt"), e.getMessage());
    }
}
