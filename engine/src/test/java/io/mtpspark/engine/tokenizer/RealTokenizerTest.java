package io.mtpspark.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Hugging Face path on the real tokenizers of current model families: llama.cpp's tokenizer test vectors for
 * Llama 3 BPE and Qwen2 BPE (ids exactly, no BOS added), round trips, special-token strings read as their special
 * ids, and the Llama 2 {@code tokenizer.json} against llama2.c's {@code tokenizer.bin} encoder.
 */
class RealTokenizerTest {
    private static HfTokenizer llama3;
    private static HfTokenizer qwen3;

    @BeforeAll
    static void load() {
        llama3 = HfTokenizer.load(RealTokenizers.llama3().resolve("tokenizer.json"), 0);
        qwen3 = HfTokenizer.load(RealTokenizers.qwen3().resolve("tokenizer.json"), 0);
    }

    @AfterAll
    static void close() {
        llama3.close();
        qwen3.close();
    }

    @Test
    void llama3PassesLlamaCppVectors() throws IOException {
        assertEquals(46, checkVectors(llama3, "ggml-vocab-llama-bpe.gguf"));
    }

    @Test
    void qwenPassesLlamaCppVectors() throws IOException {
        assertEquals(46, checkVectors(qwen3, "ggml-vocab-qwen2.gguf"));
    }

    /** Runs every vector of one llama.cpp test file; returns how many there were. */
    private static int checkVectors(HfTokenizer tok, String name) throws IOException {
        Path dir = RealTokenizers.vectors();
        String inp = Files.readString(dir.resolve(name + ".inp"), StandardCharsets.UTF_8);
        List<String> texts = new ArrayList<>(Arrays.asList(inp.split("\n__ggml_vocab_test__\n", -1)));
        if (texts.get(texts.size() - 1).isEmpty()) {
            texts.remove(texts.size() - 1); // the file ends with a separator
        }
        List<String> out = Files.readAllLines(dir.resolve(name + ".out"), StandardCharsets.UTF_8);
        assertEquals(out.size(), texts.size(), "inputs vs expected outputs");
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String line = out.get(i).trim();
            int[] expected = line.isEmpty() ? new int[0]
                    : Arrays.stream(line.split(" +")).mapToInt(Integer::parseInt).toArray();
            int[] got = tok.encode(texts.get(i), true);
            if (!Arrays.equals(expected, got)) {
                failures.add("#" + i + " " + quote(texts.get(i)) + ": expected " + Arrays.toString(expected)
                        + " got " + Arrays.toString(got));
            }
            String back = tok.decode(-1, got);
            if (!back.equals(texts.get(i))) {
                failures.add("#" + i + " round trip " + quote(texts.get(i)) + " -> " + quote(back));
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        return texts.size();
    }

    @Test
    void llama3ExamplesAndNoBos() {
        assertArrayEquals(new int[]{9906, 11, 1917, 0}, llama3.encode("Hello, world!"));
        assertArrayEquals(new int[]{22691, 11, 1917, 0}, llama3.encode(" Hello, world!"));
    }

    @Test
    void specialTokenStringsAreSpecialIds() {
        int bot = llama3.tokenId("<|begin_of_text|>").orElseThrow();
        int eot = llama3.tokenId("<|eot_id|>").orElseThrow();
        assertEquals(128000, bot);
        assertEquals(128009, eot);
        int[] ids = llama3.encode("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", false);
        assertEquals(bot, ids[0]);
        assertEquals(128006, ids[1]);
        assertEquals(eot, ids[ids.length - 1]);
        int imStart = qwen3.tokenId("<|im_start|>").orElseThrow();
        int imEnd = qwen3.tokenId("<|im_end|>").orElseThrow();
        assertEquals(151644, imStart);
        assertEquals(151645, imEnd);
        int[] q = qwen3.encode("<|im_start|>user\nHi<|im_end|>\n", false);
        assertEquals(imStart, q[0]);
        assertTrue(Arrays.stream(q).anyMatch(id -> id == imEnd), Arrays.toString(q));
        // decoding drops special tokens and keeps the text
        assertEquals("user\nHi\n", qwen3.decode(-1, q));
    }

    @Test
    void llama2HfAgreesWithLlama2cEncoder() throws IOException {
        Llama2cTokenizer reference = Llama2cTokenizer.load(RealTokenizers.llama2c(), 32000);
        List<String> corpus = new ArrayList<>(List.of("I believe the meaning of life is",
                "Simply put, the theory of relativity states that ",
                "A brief message congratulating the team on the launch:\n\n        Hi everyone,\n\n        I just ",
                "Translate English to French:\n\n        sea otter => loutre de mer\n        cheese =>",
                "Once upon a time, there was a little girl named Lily.", "Grüße aus Köln! 世界 🎉 — naïve café",
                "tabs\tand\nnewlines\n\n", "   leading and trailing spaces   ", "1234567890 3.14159 1e-5",
                "line\u2028separator"));
        var encodings = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                RealTokenizers.data().resolve("llama2c/encodings.json").toFile());
        for (var e : encodings) {
            corpus.add(e.get("text").asText());
        }
        try (HfTokenizer hf = HfTokenizer.load(RealTokenizers.llama2Hf().resolve("tokenizer.json"), 32000)) {
            int quirks = 0;
            for (String text : corpus) {
                if (text.isEmpty()) {
                    continue; // llama2.c adds no dummy-prefix space to an empty string; HF gives [BOS] too
                }
                int[] want = reference.encode(text, true, false);
                int[] got = hf.encode(text);
                if (Arrays.stream(want).anyMatch(id -> id == QUIRK)) {
                    // id 31353 is U+2028 in llama2.c but an empty piece in this tokenizer.json: HF falls back to bytes
                    quirks++;
                    continue;
                }
                assertArrayEquals(want, got, quote(text));
            }
            assertEquals(1, quirks, "the U+2028 text exercises the documented quirk");
            // where the two differ by design: "<s>" in text is the special BOS id in Hugging Face, text in llama2.c
            int[] special = hf.encode("a <s> b", false);
            assertTrue(Arrays.stream(special).anyMatch(id -> id == 1), Arrays.toString(special));
            assertTrue(Arrays.stream(reference.encode("a <s> b", false, false)).noneMatch(id -> id == 1));
        }
    }

    private static final int QUIRK = 31353;

    private static String quote(String s) {
        return "\"" + s.replace("\n", "\\n").replace("\t", "\\t") + "\"";
    }
}
