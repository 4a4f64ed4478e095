package io.mtpspark.engine.train;

/**
 * How the training loss is put together (spec §4.5): weights of the base-head CE (at mask positions; at real positions
 * it has no gradient and is only reported), the sampler CE (at all loss positions) and LCM (at real positions,
 * squared L2 to the detached real latent). {@code chainSampler} feeds the sampler its own previous argmax inside a
 * block instead of the ground-truth token (teacher forcing, the default).
 */
public record LossOptions(double baseCeWeight, double samplerCeWeight, double lcmWeight, boolean chainSampler) {
    public static final LossOptions PAPER = new LossOptions(1.0, 1.0, 1.0, false);
}
