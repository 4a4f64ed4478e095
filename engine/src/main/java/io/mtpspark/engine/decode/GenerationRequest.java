package io.mtpspark.engine.decode;

import io.mtpspark.engine.sampling.SamplingOptions;

/**
 * One prompt to decode: its token ids (BOS included), the token budget, how to sample and what else ends it
 * (stop tokens and strings; {@link StopCondition#NONE} for the model's EOS alone).
 */
public record GenerationRequest(int[] promptIds, int maxTokens, SamplingOptions sampling, StopCondition stop) {
    public GenerationRequest {
        if (promptIds == null || sampling == null) {
            throw new IllegalArgumentException("a generation request needs prompt ids and sampling options");
        }
        stop = stop == null ? StopCondition.NONE : stop;
    }

    public GenerationRequest(int[] promptIds, int maxTokens, SamplingOptions sampling) {
        this(promptIds, maxTokens, sampling, StopCondition.NONE);
    }
}
