package io.mtpspark.engine.mtp;

import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.sampling.Sampler;
import io.mtpspark.engine.tensor.Backend;

/**
 * Drafts without the sampler head (the paper's ablation baseline): each mask's latent goes through the LM head on
 * its own, {@code d_j = argmax W_unemb · z(m_j)}. All masks are projected in one matmul.
 */
public final class MaskLogitDrafter implements Drafter {
    private final LlamaModel model;
    private final Backend backend;
    private final float[] rows;
    private final float[] logits;

    public MaskLogitDrafter(LlamaModel model, Backend backend, int maxMasks) {
        this.model = model;
        this.backend = backend;
        this.rows = new float[maxMasks * model.config().dim()];
        this.logits = new float[maxMasks * model.config().vocabSize()];
    }

    @Override
    public void draft(int previous, int previousPosition, float[] hidden, int firstRow, int count, int[] drafts) {
        int d = model.config().dim();
        int vocab = model.config().vocabSize();
        System.arraycopy(hidden, firstRow * d, rows, 0, count * d);
        backend.matmul(logits, rows, count, model.weights().classifier());
        for (int j = 0; j < count; j++) {
            drafts[j] = Sampler.argmax(logits, j * vocab, vocab);
        }
    }
}
