package io.mtpspark.engine.tokenizer;

import io.mtpspark.engine.EngineException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Hugging Face tokenizer.json path through DJL, offline, on a small WordLevel tokenizer we ship for tests. */
class HfTokenizerTest {
    static Path file() throws Exception {
        return Path.of(HfTokenizerTest.class.getResource("/hf-tokenizer/tokenizer.json").toURI());
    }

    @Test
    void encodesWithBosAndDecodesWithoutIt() throws Exception {
        try (HfTokenizer tok = HfTokenizer.load(file(), 12)) {
            int[] ids = tok.encode("once upon a time , there was a cat .");
            assertArrayEquals(new int[]{1, 3, 4, 5, 6, 10, 7, 8, 5, 9, 11}, ids);
            assertEquals("once upon a time, there was a cat.", tok.decode(1, new int[]{3, 4, 5, 6, 10, 7, 8, 5, 9, 11}));
            assertEquals(12, tok.vocabSize());
        }
    }

    @Test
    void tokenizerLargerThanModelVocabIsRejected() {
        EngineException e = assertThrows(EngineException.class, () -> HfTokenizer.load(file(), 8));
        assertTrue(e.getMessage().contains("vocab size mismatch"), e.getMessage());
    }
}
