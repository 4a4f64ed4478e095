package io.mtpspark.engine.decode;

import io.mtpspark.engine.sampling.SamplingOptions;

/** One prompt to decode: its token ids (BOS included), the token budget and how to sample. */
public record GenerationRequest(int[] promptIds, int maxTokens, SamplingOptions sampling) {
    public GenerationRequest {
        if (promptIds == null || sampling == null) {
            throw new IllegalArgumentException("a generation request needs prompt ids and sampling options");
        }
    }
}
