package io.mtpspark.engine.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.mtpspark.engine.EngineException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} through DJL's bindings to the Rust tokenizers library, loaded strictly from a
 * local file (never by hub name, which would download). Special tokens (BOS) are added as the tokenizer's own
 * post-processor specifies, and dropped when decoding.
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;
    private final int vocabSize;
    private final Map<String, Integer> tokenIds;

    private HfTokenizer(HuggingFaceTokenizer tokenizer, int vocabSize, Map<String, Integer> tokenIds) {
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
        this.tokenIds = tokenIds;
    }

    /** Loads {@code tokenizer.json}; rejects it when it knows more ids than the model's vocabulary holds. */
    public static HfTokenizer load(Path file, int modelVocab) {
        if (!Files.isRegularFile(file)) {
            throw new EngineException(file, "tokenizer file not found");
        }
        HuggingFaceTokenizer tok;
        try {
            tok = HuggingFaceTokenizer.newInstance(file, Map.of("addSpecialTokens", "true"));
        } catch (IOException | RuntimeException e) {
            throw new EngineException(file, "cannot load tokenizer.json: " + e.getMessage(), e);
        }
        Map<String, Integer> tokenIds = new java.util.HashMap<>();
        int size = tokenizerVocab(file, tokenIds);
        if (modelVocab > 0 && size > modelVocab) {
            tok.close();
            throw new EngineException(file, "tokenizer/vocab size mismatch: the tokenizer has " + size
                    + " tokens but the model's vocab_size is " + modelVocab);
        }
        return new HfTokenizer(tok, size, tokenIds);
    }

    /** Highest id mentioned in the model vocabulary or added tokens, plus one; fills the text → id map. */
    private static int tokenizerVocab(Path file, Map<String, Integer> tokenIds) {
        try {
            var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(file.toFile());
            int max = -1;
            var vocab = root.path("model").path("vocab");
            if (vocab.isArray()) { // Unigram: [[piece, score], ...], the index is the id
                for (int id = 0; id < vocab.size(); id++) {
                    tokenIds.put(vocab.get(id).path(0).asText(), id);
                }
                max = vocab.size() - 1;
            }
            for (var v : (Iterable<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>>) vocab::fields) {
                max = Math.max(max, v.getValue().asInt());
                tokenIds.put(v.getKey(), v.getValue().asInt());
            }
            for (var t : root.path("added_tokens")) {
                max = Math.max(max, t.path("id").asInt());
                tokenIds.put(t.path("content").asText(), t.path("id").asInt());
            }
            return max + 1;
        } catch (IOException e) {
            throw new EngineException(file, "invalid tokenizer.json: " + e.getMessage(), e);
        }
    }

    @Override
    public int[] encode(String text) {
        return encode(text, true);
    }

    /**
     * Special-token strings in the text ({@code <|im_start|>}) become their ids either way, as in Hugging Face;
     * {@code addSpecialTokens} only decides whether the post-processor adds its own (Llama 2's BOS).
     */
    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        long[] ids = tokenizer.encode(text, addSpecialTokens, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int previous, int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return tokenizer.decode(l, true);
    }

    @Override
    public java.util.OptionalInt tokenId(String token) {
        Integer id = tokenIds.get(token);
        return id == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(id);
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
