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

    /** Whether every matrix is stored in {@code dtype}. */
    public boolean allMatrices(DType dtype) {
        return allMatrices(t -> t.dtype() == dtype);
    }

    private boolean allMatrices(java.util.function.Predicate<WeightTensor> p) {
        if (!p.test(tokenEmbedding) || !p.test(classifier)) {
            return false;
        }
        for (LayerWeights l : layers) {
            for (WeightTensor t : new WeightTensor[]{l.wq(), l.wk(), l.wv(), l.wo(), l.wGate(), l.wDown(), l.wUp()}) {
                if (!p.test(t)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * These weights with every matrix in {@code target} element type ({@link WeightTensor#to}: rounding to nearest
     * even when narrowing, exact when widening; a tied classifier stays tied). F32 means a heap {@code float[]} (a
     * mapped F32 matrix is copied to the heap: the JIT's fastest path, for models small enough to copy); BF16/F16
     * matrices already in that type are shared. Norms and biases stay F32.
     */
    public LlamaWeights to(DType target) {
        return mapMatrices(t -> convert(t, target));
    }

    /**
     * These weights with every matrix held in a heap array of its own type ({@link WeightTensor#onHeap}: the same
     * bits, read faster by the CPU kernels); a tied classifier stays tied, matrices already on the heap are shared.
     */
    public LlamaWeights onHeap() {
        return mapMatrices(WeightTensor::onHeap);
    }

    /** These weights with {@code f} applied to every matrix; norms and biases shared, a tied classifier tied. */
    private LlamaWeights mapMatrices(java.util.function.UnaryOperator<WeightTensor> f) {
        WeightTensor emb = f.apply(tokenEmbedding);
        LayerWeights[] out = new LayerWeights[layers.length];
        for (int l = 0; l < layers.length; l++) {
            LayerWeights w = layers[l];
            out[l] = new LayerWeights(w.attnNorm(), f.apply(w.wq()), f.apply(w.wk()), f.apply(w.wv()),
                    f.apply(w.wo()), w.bq(), w.bk(), w.bv(), w.ffnNorm(), f.apply(w.wGate()), f.apply(w.wDown()),
                    f.apply(w.wUp()));
        }
        return new LlamaWeights(emb, out, finalNorm, classifier == tokenEmbedding ? emb : f.apply(classifier));
    }

    /** Whether every matrix is held on the heap. */
    public boolean allOnHeap() {
        return allMatrices(WeightTensor::isHeap);
    }

    private static WeightTensor convert(WeightTensor t, DType target) {
        if (target == DType.F32 && t.dtype() == DType.F32 && !t.isHeapF32()) {
            return WeightTensor.ofFloats(t.toFloatArray(), t.rows(), t.cols());
        }
        return t.to(target);
    }
}
