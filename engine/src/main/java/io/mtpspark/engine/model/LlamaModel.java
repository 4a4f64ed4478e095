package io.mtpspark.engine.model;

/**
 * An immutable loaded model: its configuration, weights and where it came from. Loaded once, shared by every
 * sequence and thread; per-sequence state lives in the KV cache and the forward pass's scratch buffers.
 */
public record LlamaModel(LlamaConfig config, LlamaWeights weights, String source) {
}
