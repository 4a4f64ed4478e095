package io.mtpspark.engine.mtp;

/**
 * One low-rank branch: {@code down} is {@code [rank][in]} (applied first; the paper's B, PEFT's lora_A) and
 * {@code up} is {@code [out][rank]} (the paper's A, PEFT's lora_B). For q/k projections the up rows are in the
 * engine's adjacent-pair RoPE order, like the base weights they sit beside.
 */
public record LoraWeights(float[] down, float[] up, int rank, int in, int out) {
}
