package io.mtpspark.engine.mtp;

/**
 * Sampler-head choices the paper leaves open (spec §3): {@code residual} adds block 1's output to block 2's
 * ({@code h1 + h2}, as public implementations do); the norm in each block is RMSNorm with the model's epsilon.
 */
public record SamplerOptions(boolean residual) {
    public static final SamplerOptions DEFAULT = new SamplerOptions(true);
}
