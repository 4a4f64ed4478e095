package io.mtpspark.engine.mtp;

import java.util.EnumSet;
import java.util.Set;

/**
 * Shape of an MTP adapter: K mask tokens (decoders may use any k in 1..K), LoRA rank and scaling (the branch adds
 * {@code scaling · up(down(x))}), the target linears, sampler options, and the fingerprint of the base model it was
 * trained for.
 */
public record MtpAdapterConfig(int k, int rank, float scaling, Set<LoraTarget> targets, SamplerOptions sampler,
                               String baseFingerprint) {
    public MtpAdapterConfig {
        if (k < 1 || k > 32) {
            throw new IllegalArgumentException("k must be in 1..32, got " + k);
        }
        if (rank < 1) {
            throw new IllegalArgumentException("LoRA rank must be >= 1, got " + rank);
        }
        targets = targets.isEmpty() ? EnumSet.noneOf(LoraTarget.class) : EnumSet.copyOf(targets);
    }

    public static MtpAdapterConfig allTargets(int k, int rank, float scaling, String baseFingerprint) {
        return new MtpAdapterConfig(k, rank, scaling, EnumSet.allOf(LoraTarget.class), SamplerOptions.DEFAULT,
                baseFingerprint);
    }
}
