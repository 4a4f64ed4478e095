package io.mtpspark.engine.model;

import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.tensor.WeightTensor;

/**
 * All weights of a Llama-family model, engine layout: matrices as {@link WeightTensor}s in their loaded dtype
 * ({@code tokenEmbedding} and {@code classifier} are {@code [vocab][dim]}), the final norm as {@code float[]}.
 * {@code classifier} is the same tensor as {@code tokenEmbedding} when the embeddings are tied.
 */
public record LlamaWeights(WeightTensor tokenEmbedding, LayerWeights[] layers, float[] finalNorm,
                           WeightTensor classifier) {

    /** Bytes of every matrix as stored (the tied embedding counted once): what one forward reads at most. */
    public long matrixBytes() {
        long b = tokenEmbedding.byteSize() + (classifier == tokenEmbedding ? 0 : classifier.byteSize());
        for (LayerWeights l : layers) {
            b += l.wq().byteSize() + l.wk().byteSize() + l.wv().byteSize() + l.wo().byteSize()
                    + l.wGate().byteSize() + l.wDown().byteSize() + l.wUp().byteSize();
        }
        return b;
    }

    /**
     * These weights with every matrix in {@code target} element type ({@link WeightTensor#to}: rounding to nearest
     * even when narrowing, exact when widening; matrices already in that type are shared, a tied classifier stays
     * tied). Norms and biases stay F32.
     */
    public LlamaWeights to(DType target) {
        WeightTensor emb = tokenEmbedding.to(target);
        LayerWeights[] out = new LayerWeights[layers.length];
        for (int l = 0; l < layers.length; l++) {
            LayerWeights w = layers[l];
            out[l] = new LayerWeights(w.attnNorm(), w.wq().to(target), w.wk().to(target), w.wv().to(target),
                    w.wo().to(target), w.bq(), w.bk(), w.bv(), w.ffnNorm(), w.wGate().to(target),
                    w.wDown().to(target), w.wUp().to(target));
        }
        return new LlamaWeights(emb, out, finalNorm, classifier == tokenEmbedding ? emb : classifier.to(target));
    }
}
