package io.mtpspark.engine.model;

import io.mtpspark.engine.tensor.WeightTensor;

/**
 * Converts query/key projection rows between the two RoPE conventions. Hugging Face Llama checkpoints rotate
 * "halves" (dimension m pairs with m + headDim/2); the engine, like llama2.c, rotates adjacent pairs (2m, 2m+1).
 * Both use frequency index m for the pair, so converting is a row permutation inside each head.
 */
public final class RopeLayout {
    private RopeLayout() {
    }

    /** Rows of a [heads*headDim, cols] matrix (or a bias when cols = 1) from rotate-half to adjacent-pair order. */
    public static float[] halvesToPairs(float[] w, int heads, int headDim, int cols) {
        float[] out = new float[w.length];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            int base = h * headDim;
            for (int m = 0; m < half; m++) {
                System.arraycopy(w, (base + m) * cols, out, (base + 2 * m) * cols, cols);
                System.arraycopy(w, (base + m + half) * cols, out, (base + 2 * m + 1) * cols, cols);
            }
        }
        return out;
    }

    /**
     * The q/k weight {@code w} ({@code [heads*headDim][cols]}) from rotate-half to adjacent-pair row order, kept in its
     * dtype: a copy of just this tensor, so a BF16 checkpoint's other weights stay mapped.
     */
    public static WeightTensor halvesToPairs(WeightTensor w, int heads, int headDim) {
        int[] source = new int[heads * headDim];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            int base = h * headDim;
            for (int m = 0; m < half; m++) {
                source[base + 2 * m] = base + m;
                source[base + 2 * m + 1] = base + m + half;
            }
        }
        return w.permuteRows(source);
    }

    /** Inverse of {@link #halvesToPairs}: adjacent-pair order to Hugging Face rotate-half order. */
    public static float[] pairsToHalves(float[] w, int heads, int headDim, int cols) {
        float[] out = new float[w.length];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            int base = h * headDim;
            for (int m = 0; m < half; m++) {
                System.arraycopy(w, (base + 2 * m) * cols, out, (base + m) * cols, cols);
                System.arraycopy(w, (base + 2 * m + 1) * cols, out, (base + m + half) * cols, cols);
            }
        }
        return out;
    }
}
