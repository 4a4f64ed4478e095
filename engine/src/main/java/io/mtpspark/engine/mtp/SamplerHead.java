package io.mtpspark.engine.mtp;

/**
 * The sampler MLP of spec §3: {@code h1 = RMSNorm(SiLU(fc1 · [E[prev] ; z]))}, {@code h2 = RMSNorm(SiLU(fc2 · h1))},
 * output {@code h1 + h2} (or {@code h2} without the residual), fed to the model's frozen LM head. {@code fc1} is
 * {@code [dim][2·dim]}, {@code fc2} is {@code [dim][dim]}.
 */
public record SamplerHead(float[] fc1, float[] norm1, float[] fc2, float[] norm2, SamplerOptions options) {
}
