package io.mtpspark.engine.session;

import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.GenerationRequest;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.sampling.SamplingOptions;

import java.util.ArrayList;
import java.util.List;

/**
 * Text in, text out: encodes prompts with the bundle's tokenizer, runs a {@link Decoder} (batched when it has a batch
 * size above one) and decodes the generated ids (a final stop token is not part of the text). One instance per
 * generating thread.
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
        return generateAll(List.of(prompt), maxTokens, sampling).get(0);
    }

    /** Every prompt, batched by the decoder; results in prompt order. */
    public List<TextGeneration> generateAll(List<String> prompts, int maxTokens, SamplingOptions sampling) {
        return generateAll(prompts, maxTokens, sampling, r -> { });
    }

    /** As {@link #generateAll(List, int, SamplingOptions)}, telling {@code onResult} of each result as it finishes. */
    public List<TextGeneration> generateAll(List<String> prompts, int maxTokens, SamplingOptions sampling,
                                            java.util.function.Consumer<GenerationResult> onResult) {
        List<GenerationRequest> requests = new ArrayList<>();
        for (String p : prompts) {
            requests.add(new GenerationRequest(bundle.tokenizer().encode(p), maxTokens, sampling));
        }
        List<TextGeneration> out = new ArrayList<>();
        for (GenerationResult r : decoder.generateAll(requests, onResult)) {
            out.add(new TextGeneration(r, decodeText(r)));
        }
        return out;
    }

    /** Decodes prepared requests (chat prompts, stop conditions), batched; results in request order. */
    public List<TextGeneration> generateRequests(List<GenerationRequest> requests) {
        List<TextGeneration> out = new ArrayList<>();
        for (GenerationResult r : decoder.generateAll(requests)) {
            out.add(new TextGeneration(r, decodeText(r)));
        }
        return out;
    }

    /**
     * Text of the generated ids, without a stop token that ended the sequence, and cut before the stop string that
     * ended it.
     */
    public String decodeText(GenerationResult r) {
        int[] gen = r.generatedIds();
        int n = gen.length;
        if (r.finishReason() == io.mtpspark.engine.decode.FinishReason.STOP && r.stopString() == null && n > 0) {
            n--;
        }
        int prev = r.promptIds()[r.promptIds().length - 1];
        String text = bundle.tokenizer().decode(prev, java.util.Arrays.copyOf(gen, n));
        if (r.stopString() != null) {
            int at = text.indexOf(r.stopString());
            if (at >= 0) {
                text = text.substring(0, at);
            }
        }
        return text;
    }
}
