package io.mtpspark.engine.tokenizer;

/**
 * Text to token ids and back. Two implementations: llama2.c's score-driven BPE ({@link Llama2cTokenizer}) and
 * Hugging Face {@code tokenizer.json} through DJL ({@link HfTokenizer}).
 */
public interface Tokenizer {
    /** Encodes a prompt the way the model expects it, beginning-of-sequence token included. */
    int[] encode(String text);

    /** Decodes generated ids to text; {@code previous} is the id before {@code ids[0]} (e.g. BOS) or -1. */
    String decode(int previous, int[] ids);

    int vocabSize();
}
