package io.mtpspark.engine.llama;

/**
 * Greedy verification of the last forward, done where the logits are (the device), so the full-vocabulary logits
 * never reach the host. A segment is found by its first logit row (the decoders' {@code logitBase}): its real rows
 * r_0..r_d are its logit rows, the draft checked at row g is the token of row g + 1, {@link #accepted} is the
 * accepted prefix a, the emitted tokens are {@link #token} of logit rows base..base+a (accepted drafts, then the
 * bonus), cut after the first stop token ({@link #emitted}); {@link #nextDraftRow} is the block row whose mask
 * latents draft the next step, or -1. The arrays are the forward's, refilled by every forward.
 */
public final class GreedyVerdicts {
    private final int[] tokens;
    private final int[] verdicts;

    /**
     * @param tokens   argmax of each logit row
     * @param verdicts four ints per logit row, filled at each segment's first logit row: accepted, emitted, next
     *                 draft row (block offset, -1 if none), offset of real row 0 in the block
     */
    public GreedyVerdicts(int[] tokens, int[] verdicts) {
        this.tokens = tokens;
        this.verdicts = verdicts;
    }

    /** Argmax of logit row {@code logit}. */
    public int token(int logit) {
        return tokens[logit];
    }

    /** Drafts accepted in the segment whose logits start at {@code firstLogit}. */
    public int accepted(int firstLogit) {
        return verdicts[4 * firstLogit];
    }

    /** Tokens to emit (accepted + 1, or fewer when a stop token came first). */
    public int emitted(int firstLogit) {
        return verdicts[4 * firstLogit + 1];
    }

    /** Block row (from the segment's first row) of the first mask row that drafts the next step, or -1. */
    public int nextDraftRow(int firstLogit) {
        return verdicts[4 * firstLogit + 2];
    }
}
