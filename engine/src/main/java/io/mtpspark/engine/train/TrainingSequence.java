package io.mtpspark.engine.train;

/**
 * One training row: token ids (BOS first) and the first position whose next-token prediction carries loss. Real
 * tokens at positions {@code lossStart .. length-2} get k mask tokens each (the prompt before them gets none).
 */
public record TrainingSequence(int[] tokens, int lossStart) {
    public TrainingSequence {
        if (tokens.length < 2) {
            throw new IllegalArgumentException("a training sequence needs at least 2 tokens");
        }
        if (lossStart < 0 || lossStart > tokens.length - 2) {
            throw new IllegalArgumentException("lossStart " + lossStart + " outside [0, " + (tokens.length - 2) + "]");
        }
    }

    /** Number of real positions with a next-token label in the loss. */
    public int ntpPositions() {
        return tokens.length - 1 - lossStart;
    }

    /** Number of mask rows with a label for k masks per block. */
    public int maskRows(int k) {
        int rows = 0;
        for (int b = lossStart; b <= tokens.length - 2; b++) {
            rows += Math.min(k, tokens.length - 2 - b);
        }
        return rows;
    }

    /** Real positions t in the loss whose LCM set (masks predicting the same target) is non-empty. */
    public int lcmPositions(int k) {
        // S_t holds mask j of block t-j for j >= 1, so every t after the first loss position has one
        return Math.max(0, tokens.length - 2 - lossStart);
    }
}
