package io.mtpspark.engine.model;

/**
 * Shape and hyper-parameters of a Llama-family decoder (Llama, Mistral, Qwen2), independent of the file format it
 * came from. Inside the engine RoPE always rotates adjacent pairs (llama2.c layout); loaders convert other layouts.
 *
 * @param architecture   e.g. {@code LlamaForCausalLM}, or {@code llama2c} for llama2.c checkpoints
 * @param dim            model (residual stream) width
 * @param hiddenDim      SwiGLU inner width
 * @param headDim        per-head width (dim / nHeads unless the config says otherwise)
 * @param seqLen         maximum context length (positions)
 * @param qkvBias        whether q/k/v projections carry a bias (Qwen2)
 * @param tiedEmbeddings whether the classifier shares the token embedding
 * @param bosId          beginning-of-sequence token id
 * @param eosId          end-of-sequence token id
 * @param stopOnBos      stop generation when the model emits BOS (TinyStories uses BOS as a story delimiter)
 */
public record LlamaConfig(
        String architecture,
        int dim,
        int hiddenDim,
        int nLayers,
        int nHeads,
        int nKvHeads,
        int vocabSize,
        int seqLen,
        int headDim,
        double ropeTheta,
        float rmsNormEps,
        RopeScaling ropeScaling,
        boolean qkvBias,
        boolean tiedEmbeddings,
        int bosId,
        int eosId,
        boolean stopOnBos) {

    /** Width of the concatenated query heads. */
    public int qDim() {
        return nHeads * headDim;
    }

    /** Width of the concatenated key (or value) heads. */
    public int kvDim() {
        return nKvHeads * headDim;
    }

    /** Number of query heads that share one key/value head. */
    public int groupSize() {
        return nHeads / nKvHeads;
    }
}
