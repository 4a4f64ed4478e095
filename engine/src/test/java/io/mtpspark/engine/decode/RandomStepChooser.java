package io.mtpspark.engine.decode;

import java.util.SplittableRandom;

/**
 * A test {@link StepChooser} that picks a uniformly random configuration at every step, regardless of cost: the
 * switching properties (greedy exactness, sampled distributions) must hold whatever a policy chooses. {@link #always}
 * picks one configuration instead.
 */
public final class RandomStepChooser implements StepChooser {
    private final SplittableRandom rng;
    private final int configs;
    private final int only;
    private final double[] priors;

    public RandomStepChooser(int configs, long seed) {
        this(configs, seed, -1, null);
    }

    private RandomStepChooser(int configs, long seed, int only, double[] priors) {
        this.configs = configs;
        this.rng = new SplittableRandom(seed);
        this.only = only;
        this.priors = priors;
    }

    /** A chooser that always picks configuration {@code index}, whose prior tokens per pass are {@code priors}. */
    public static RandomStepChooser always(int index, double... priors) {
        return new RandomStepChooser(priors.length, 0, index, priors);
    }

    @Override
    public int choose(int sequences, double acceptanceRatioSum) {
        return only >= 0 ? only : rng.nextInt(configs);
    }

    @Override
    public double priorTokensPerPass(int index) {
        return priors != null ? priors[index] : 2;
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
