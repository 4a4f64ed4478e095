package io.mtpspark.engine.model;

/**
 * Llama-3 style RoPE frequency scaling ({@code rope_scaling.rope_type == "llama3"} in a Hugging Face config):
 * long wavelengths are divided by {@code factor}, short ones kept, and the band between is interpolated.
 */
public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {

    /** Applies the scaling to one inverse frequency. */
    public double scale(double invFreq) {
        double lowFreqWavelen = originalMaxPositions / lowFreqFactor;
        double highFreqWavelen = originalMaxPositions / highFreqFactor;
        double wavelen = 2 * Math.PI / invFreq;
        if (wavelen < highFreqWavelen) {
            return invFreq;
        }
        if (wavelen > lowFreqWavelen) {
            return invFreq / factor;
        }
        double smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        return (1 - smooth) * invFreq / factor + smooth * invFreq;
    }
}
