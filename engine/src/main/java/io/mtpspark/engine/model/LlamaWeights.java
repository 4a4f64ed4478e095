package io.mtpspark.engine.model;

/**
 * All weights of a Llama-family model in fp32, engine layout. {@code classifier} is the same array as
 * {@code tokenEmbedding} when the embeddings are tied.
 */
public record LlamaWeights(float[] tokenEmbedding, LayerWeights[] layers, float[] finalNorm, float[] classifier) {
}
