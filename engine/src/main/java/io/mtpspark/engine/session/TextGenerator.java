package io.mtpspark.engine.session;

import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.sampling.SamplingOptions;

/**
 * Text in, text out: encodes a prompt with the bundle's tokenizer, runs a {@link Decoder} and decodes the generated
 * ids (a final stop token is not part of the text). One instance per generating thread.
 */
public final class TextGenerator {
    private final ModelBundle bundle;
    private final Decoder decoder;

    public TextGenerator(ModelBundle bundle, Decoder decoder) {
        this.bundle = bundle;
        this.decoder = decoder;
    }

    public Decoder decoder() {
        return decoder;
    }

    public TextGeneration generate(String prompt, int maxTokens, SamplingOptions sampling) {
        int[] ids = bundle.tokenizer().encode(prompt);
        GenerationResult r = decoder.generate(ids, maxTokens, sampling);
        return new TextGeneration(r, decodeText(r));
    }

    /** Text of the generated ids, without a stop token that ended the sequence. */
    public String decodeText(GenerationResult r) {
        int[] gen = r.generatedIds();
        int n = gen.length;
        if (r.finishReason() == io.mtpspark.engine.decode.FinishReason.STOP && n > 0) {
            n--;
        }
        int prev = r.promptIds()[r.promptIds().length - 1];
        return bundle.tokenizer().decode(prev, java.util.Arrays.copyOf(gen, n));
    }
}
