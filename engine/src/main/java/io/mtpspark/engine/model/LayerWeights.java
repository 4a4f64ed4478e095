package io.mtpspark.engine.model;

import io.mtpspark.engine.tensor.WeightTensor;

/**
 * Weights of one decoder layer: the seven projection matrices as {@link WeightTensor}s {@code [out][in]} like a
 * PyTorch Linear weight, kept in the dtype they were loaded in; the norm vectors and biases as {@code float[]}.
 * Query and key rows are in the engine's adjacent-pair RoPE layout. Biases are null unless the architecture has
 * them (Qwen2).
 */
public record LayerWeights(
        float[] attnNorm,
        WeightTensor wq,
        WeightTensor wk,
        WeightTensor wv,
        WeightTensor wo,
        float[] bq,
        float[] bk,
        float[] bv,
        float[] ffnNorm,
        WeightTensor wGate,
        WeightTensor wDown,
        WeightTensor wUp) {
}
