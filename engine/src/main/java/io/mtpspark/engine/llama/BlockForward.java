package io.mtpspark.engine.llama;

import io.mtpspark.engine.kvcache.SequenceCache;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.tensor.Backend;

/**
 * The forward seam the decoders drive: a batched block forward ({@link BlockBatch}) plus the KV caches it works on.
 * Two implementations: {@link LlamaForward} (host memory, any {@link Backend}) and the device-resident forward
 * ({@code device.DeviceForward}, weights, activations and KV cache on a GPU or its emulator). Decoders see only
 * this, so every decoder runs on either unchanged.
 */
public interface BlockForward {
    LlamaModel model();

    /** The backend host-side work beside the forward runs on (the drafters' sampler head). */
    Backend backend();

    /** Rows per forward, over all sequences of a batch. */
    int maxRows();

    /** Largest position + 1 this forward can process. */
    int maxContext();

    /** Rows per forward whose logits can be asked for. */
    int maxLogitRows();

    /** A KV cache of {@code capacity} rows that this forward can run blocks on. */
    SequenceCache newCache(int capacity);

    /**
     * Runs every segment of {@code batch}: each cache grows by its segment's rows. Logits of the batch's logit rows
     * land in {@link #logits()} in order; final-norm hidden states in {@link #hidden()}.
     */
    void forward(BlockBatch batch, MtpAdapter adapter);

    /**
     * Final-norm hidden states of the last forward, {@code [rows][dim]}. The device forward fills them only when the
     * batch had gated rows (the mask rows drafters read); the host forward always does.
     */
    float[] hidden();

    /** Logits of the rows requested in the last forward, in request order, {@code [count][vocab]}. */
    float[] logits();

    /**
     * Greedy verdicts of the last forward when this forward verifies on the device (its logits then stay there and
     * {@link #logits()} refuses), else null and decoders verify from {@link #logits()}.
     */
    default GreedyVerdicts verdicts() {
        return null;
    }

    /**
     * Whether the verdicts of a forward that verifies on the device also follow each segment's sampling options
     * at temperature > 0 ({@link BlockBatch#sampling}: speculative sampling on the device); otherwise such a
     * forward verifies greedily only.
     */
    default boolean samplesOnDevice() {
        return false;
    }
}
