package io.mtpspark.engine.decode;

import java.util.SplittableRandom;

/**
 * A test {@link StepChooser} that picks a uniformly random configuration at every step, regardless of cost: the
 * switching properties (greedy exactness, sampled distributions) must hold whatever a policy chooses.
 */
public final class RandomStepChooser implements StepChooser {
    private final SplittableRandom rng;
    private final int configs;

    public RandomStepChooser(int configs, long seed) {
        this.configs = configs;
        this.rng = new SplittableRandom(seed);
    }

    @Override
    public int choose(int sequences, double acceptanceRatioSum) {
        return rng.nextInt(configs);
    }

    @Override
    public double priorTokensPerPass(int index) {
        return 2;
    }

    @Override
    public double draftedShare(int index) {
        return 1;
    }

    @Override
    public double predictedSeconds(int index, int sequences) {
        return Double.NaN;
    }

    @Override
    public int decisionInterval() {
        return 1; // a new random configuration every step
    }
}
