package io.mtpspark.engine.decode;

/**
 * Picks the configuration of an {@link AdaptiveDecoder}'s next step. The goodput policy maximises predicted tokens
 * per second; tests force arbitrary switches to check that switching keeps outputs exact.
 */
public interface StepChooser {
    /**
     * Index (into the decoder's configurations) for the next step of {@code sequences} sequences, whose drafts are
     * accepted {@code acceptanceRatioSum / sequences} times as well as the prior expects, on average.
     */
    int choose(int sequences, double acceptanceRatioSum);

    /** Tokens per pass the prior expects of configuration {@code index} (1 for autoregressive). */
    double priorTokensPerPass(int index);

    /**
     * Share of a configuration's passes that verify a full set of drafts (1 for quadratic, less for linear, whose
     * passes after a rejection carry none); the prior's tokens per pass above 1 come from those passes.
     */
    double draftedShare(int index);

    /**
     * Steps a choice stands for while the number of sequences stays the same (it is re-made at once when that
     * changes): the acceptance estimates move slowly, so re-deciding every step would only cost time.
     */
    default int decisionInterval() {
        return 16;
    }

    /** Predicted seconds of one forward of configuration {@code index} over {@code sequences} (NaN: no model). */
    double predictedSeconds(int index, int sequences);

    /**
     * The measured wall time of one decoding step (forward, verification, drafting; no prefill rows in it) of
     * configuration {@code index} over {@code sequences}. Returns whether the choice should be re-made at once
     * (the observation changed what the chooser knows, e.g. a configuration's first reliable cost).
     */
    default boolean observeStep(int index, int sequences, long nanos) {
        return false;
    }
}
