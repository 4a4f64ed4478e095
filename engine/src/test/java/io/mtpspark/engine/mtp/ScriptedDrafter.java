package io.mtpspark.engine.mtp;

import java.util.SplittableRandom;

/**
 * A test drafter that knows the true continuation: it proposes the reference token with probability
 * {@code hitRate}, else a wrong one, so decoders see full, partial and zero acceptance.
 */
public final class ScriptedDrafter implements Drafter {
    private final int[] reference; // prompt followed by the reference generation
    private final double hitRate;
    private final int vocab;
    private final SplittableRandom rng;

    public ScriptedDrafter(int[] reference, double hitRate, int vocab, long seed) {
        this.reference = reference;
        this.hitRate = hitRate;
        this.vocab = vocab;
        this.rng = new SplittableRandom(seed);
    }

    @Override
    public void draft(int previous, int previousPosition, float[] hidden, int firstRow, int count, int[] drafts) {
        for (int j = 0; j < count; j++) {
            int at = previousPosition + 1 + j;
            int truth = at < reference.length ? reference[at] : 0;
            drafts[j] = rng.nextDouble() < hitRate ? truth : (truth + 1 + rng.nextInt(vocab - 1)) % vocab;
        }
    }
}
