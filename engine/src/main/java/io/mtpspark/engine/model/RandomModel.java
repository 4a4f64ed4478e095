package io.mtpspark.engine.model;

import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.tensor.WeightTensor;

import java.util.SplittableRandom;

/**
 * Builds a model with seeded random weights for a given configuration: used by tests (GQA, untied classifier, biases)
 * and by benchmarks of shapes we have no real weights for. Norm weights are near 1 and projection weights scaled
 * by 1/sqrt(fan-in) so activations stay in a realistic range.
 */
public final class RandomModel {
    private RandomModel() {
    }

    public static LlamaModel create(LlamaConfig c, long seed) {
        return create(c, seed, DType.F32);
    }

    /**
     * The same weights with every matrix in {@code dtype}, each converted as soon as it is drawn, so a large BF16
     * model never needs its F32 copy in memory at once.
     */
    public static LlamaModel create(LlamaConfig c, long seed, DType dtype) {
        SplittableRandom rng = new SplittableRandom(seed);
        WeightTensor embedding = matrix(rng, dtype, c.vocabSize(), c.dim(), 1.0f);
        LayerWeights[] layers = new LayerWeights[c.nLayers()];
        for (int l = 0; l < c.nLayers(); l++) {
            layers[l] = new LayerWeights(
                    norm(rng, c.dim()),
                    matrix(rng, dtype, c.qDim(), c.dim(), inv(c.dim())),
                    matrix(rng, dtype, c.kvDim(), c.dim(), inv(c.dim())),
                    matrix(rng, dtype, c.kvDim(), c.dim(), inv(c.dim())),
                    matrix(rng, dtype, c.dim(), c.qDim(), inv(c.qDim())),
                    c.qkvBias() ? gaussian(rng, c.qDim(), 0.1f) : null,
                    c.qkvBias() ? gaussian(rng, c.kvDim(), 0.1f) : null,
                    c.qkvBias() ? gaussian(rng, c.kvDim(), 0.1f) : null,
                    norm(rng, c.dim()),
                    matrix(rng, dtype, c.hiddenDim(), c.dim(), inv(c.dim())),
                    matrix(rng, dtype, c.dim(), c.hiddenDim(), inv(c.hiddenDim())),
                    matrix(rng, dtype, c.hiddenDim(), c.dim(), inv(c.dim())));
        }
        float[] finalNorm = norm(rng, c.dim());
        WeightTensor classifier = c.tiedEmbeddings() ? embedding
                : matrix(rng, dtype, c.vocabSize(), c.dim(), inv(c.dim()) * 4);
        return new LlamaModel(c, new LlamaWeights(embedding, layers, finalNorm, classifier), "random:" + seed);
    }

    /** A small GQA configuration with an untied classifier, convenient for tests. */
    public static LlamaConfig tinyConfig(int vocab, boolean qkvBias) {
        return new LlamaConfig(qkvBias ? "Qwen2ForCausalLM" : "LlamaForCausalLM", 48, 96, 2, 6, 2, vocab, 256, 8,
                10000.0, 1e-5f, null, qkvBias, false, 1, 2, false);
    }

    private static float inv(int fanIn) {
        return (float) (1.0 / Math.sqrt(fanIn));
    }

    private static float[] norm(SplittableRandom rng, int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = 1.0f + 0.1f * (float) (rng.nextDouble() * 2 - 1);
        }
        return w;
    }

    private static WeightTensor matrix(SplittableRandom rng, DType dtype, int rows, int cols, float scale) {
        return WeightTensor.ofFloats(gaussian(rng, (long) rows * cols, scale), rows, cols).to(dtype);
    }

    private static float[] gaussian(SplittableRandom rng, long n, float scale) {
        float[] w = new float[Math.toIntExact(n)];
        for (int i = 0; i < w.length; i++) {
            // sum of uniforms: cheap, bounded, near-Gaussian
            double s = rng.nextDouble() + rng.nextDouble() + rng.nextDouble() - 1.5;
            w[i] = (float) (s * 2.0) * scale;
        }
        return w;
    }
}
