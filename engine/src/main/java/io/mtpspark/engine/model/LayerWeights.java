package io.mtpspark.engine.model;

/**
 * Weights of one decoder layer as flat row-major fp32 arrays, {@code [out][in]} like a PyTorch Linear weight.
 * Query and key rows are in the engine's adjacent-pair RoPE layout. Biases are null unless the architecture has
 * them (Qwen2).
 */
public record LayerWeights(
        float[] attnNorm,
        float[] wq,
        float[] wk,
        float[] wv,
        float[] wo,
        float[] bq,
        float[] bk,
        float[] bv,
        float[] ffnNorm,
        float[] wGate,
        float[] wDown,
        float[] wUp) {
}
