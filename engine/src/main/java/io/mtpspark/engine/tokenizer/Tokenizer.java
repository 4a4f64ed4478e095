package io.mtpspark.engine.tokenizer;

/**
 * Text to token ids and back. Two implementations: llama2.c's score-driven BPE ({@link Llama2cTokenizer}) and
 * Hugging Face {@code tokenizer.json} through DJL ({@link HfTokenizer}).
 */
public interface Tokenizer {
    /** Encodes a prompt the way the model expects it, beginning-of-sequence token included. */
    int[] encode(String text);

    /**
     * Encodes text with or without the special tokens the tokenizer adds on its own (BOS). A prompt rendered by a
     * chat template is encoded without them: the template already wrote its BOS, as Hugging Face's
     * {@code apply_chat_template} encodes with {@code add_special_tokens=False}.
     */
    default int[] encode(String text, boolean addSpecialTokens) {
        if (addSpecialTokens) {
            return encode(text);
        }
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot encode without special tokens");
    }

    /** The id of a token given as its text ({@code <|eot_id|>}), if the vocabulary has it as a whole token. */
    default java.util.OptionalInt tokenId(String token) {
        return java.util.OptionalInt.empty();
    }

    /** Decodes generated ids to text; {@code previous} is the id before {@code ids[0]} (e.g. BOS) or -1. */
    String decode(int previous, int[] ids);

    int vocabSize();
}
