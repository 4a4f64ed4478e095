package io.mtpspark.engine.mtp;

/**
 * Turns the final hidden states of consecutive mask rows into draft tokens. Two implementations: the paper's
 * sampler head ({@link SamplerHeadDrafter}, each draft conditioned on the previous one) and the ablation without
 * it ({@link MaskLogitDrafter}, the LM head applied to each mask independently).
 */
public interface Drafter {
    /**
     * Fills {@code drafts[0..count)}: draft j+1 from mask row {@code firstRow + j} of {@code hidden} ({@code [rows][dim]}),
     * starting from the committed token {@code previous}, which sits at sequence position {@code previousPosition}.
     */
    void draft(int previous, int previousPosition, float[] hidden, int firstRow, int count, int[] drafts);
}
