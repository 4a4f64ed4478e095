package io.mtpspark.engine.llama;

import io.mtpspark.engine.model.LlamaConfig;

/**
 * Precomputed RoPE rotations for adjacent pairs (2m, 2m+1) of every head: angle = position × θ^(-2m/headDim), with
 * llama3 frequency scaling when configured. Frequencies are rounded to float first, as llama2.c does, so the
 * stories260K logits match the C reference closely.
 */
public final class RopeTable {
    private final float[] cos;
    private final float[] sin;
    private final int half;
    private final int positions;

    public RopeTable(LlamaConfig c, int positions) {
        this.half = c.headDim() / 2;
        this.positions = positions;
        float[] freq = new float[half];
        for (int m = 0; m < half; m++) {
            double inv = 1.0 / Math.pow(c.ropeTheta(), (2 * m) / (double) c.headDim());
            if (c.ropeScaling() != null) {
                inv = c.ropeScaling().scale(inv);
            }
            freq[m] = (float) inv;
        }
        cos = new float[positions * half];
        sin = new float[positions * half];
        for (int p = 0; p < positions; p++) {
            for (int m = 0; m < half; m++) {
                float angle = p * freq[m];
                cos[p * half + m] = (float) Math.cos(angle);
                sin[p * half + m] = (float) Math.sin(angle);
            }
        }
    }

    public int positions() {
        return positions;
    }

    /** cos of every (position, pair) angle, {@code [positions][headDim / 2]}: the device forward uploads it. */
    public float[] cosTable() {
        return cos;
    }

    /** sin of every (position, pair) angle, {@code [positions][headDim / 2]}. */
    public float[] sinTable() {
        return sin;
    }

    /** Rotates {@code heads} consecutive heads of width 2·half starting at {@code off} for position {@code pos}. */
    void rotate(float[] v, int off, int heads, int pos) {
        int t = pos * half;
        for (int h = 0; h < heads; h++) {
            int base = off + h * 2 * half;
            for (int m = 0; m < half; m++) {
                float c = cos[t + m];
                float s = sin[t + m];
                float a = v[base + 2 * m];
                float b = v[base + 2 * m + 1];
                v[base + 2 * m] = a * c - b * s;
                v[base + 2 * m + 1] = a * s + b * c;
            }
        }
    }
}
