package io.mtpspark.engine.decode;

import io.mtpspark.engine.sampling.SamplingOptions;

/**
 * A decoding strategy over token ids: given a prompt (BOS included), produce up to {@code maxTokens} tokens. Every
 * decoder must emit, under greedy sampling, exactly the tokens plain autoregressive greedy decoding emits.
 * Instances hold per-sequence scratch state and are used by one thread at a time.
 */
public interface Decoder {
    String name();

    GenerationResult generate(int[] promptIds, int maxTokens, SamplingOptions sampling);
}
