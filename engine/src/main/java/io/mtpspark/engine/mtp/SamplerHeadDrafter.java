package io.mtpspark.engine.mtp;

import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.sampling.Sampler;
import io.mtpspark.engine.tensor.Backend;

/**
 * Drafts with the sampler head (spec §3): {@code u_j = argmax W_unemb · MLP([E[u_{j-1}] ; z(m_j)])}, starting from
 * the verified token. Sequential by nature (each step needs the previous draft), one LM-head product per draft.
 */
public final class SamplerHeadDrafter implements Drafter {
    private final LlamaModel model;
    private final SamplerHead head;
    private final Backend backend;
    private final float eps;
    private final float[] input;
    private final float[] h1;
    private final float[] h2;
    private final float[] logits;

    public SamplerHeadDrafter(LlamaModel model, MtpAdapter adapter, Backend backend) {
        this.model = model;
        this.head = adapter.sampler();
        this.backend = backend;
        this.eps = model.config().rmsNormEps();
        int d = model.config().dim();
        input = new float[2 * d];
        h1 = new float[d];
        h2 = new float[d];
        logits = new float[model.config().vocabSize()];
    }

    @Override
    public void draft(int previous, int previousPosition, float[] hidden, int firstRow, int count, int[] drafts) {
        int d = model.config().dim();
        int vocab = model.config().vocabSize();
        int prev = previous;
        for (int j = 0; j < count; j++) {
            model.weights().tokenEmbedding().readRow(prev, input, 0);
            System.arraycopy(hidden, (firstRow + j) * d, input, d, d);
            float[] out = forward(backend, head, input, h1, h2, d, eps);
            backend.matmul(logits, out, 1, model.weights().classifier());
            prev = Sampler.argmax(logits, 0, vocab);
            drafts[j] = prev;
        }
    }

    /**
     * The sampler MLP on one input {@code [E[prev]; z]} (2·d): returns the vector fed to the LM head ({@code h1 + h2}
     * written into h2 with the residual, else h2).
     */
    static float[] forward(Backend backend, SamplerHead head, float[] input, float[] h1, float[] h2, int d, float eps) {
        backend.matmul(h1, input, 1, head.fc1(), 2 * d, d);
        silu(h1, d);
        backend.rmsnorm(h1, 0, h1, 0, head.norm1(), d, eps);
        backend.matmul(h2, h1, 1, head.fc2(), d, d);
        silu(h2, d);
        backend.rmsnorm(h2, 0, h2, 0, head.norm2(), d, eps);
        if (head.options().residual()) {
            for (int i = 0; i < d; i++) {
                h2[i] += h1[i];
            }
        }
        return h2;
    }

    private static void silu(float[] v, int n) {
        for (int i = 0; i < n; i++) {
            v[i] = v[i] / (1f + (float) Math.exp(-v[i]));
        }
    }
}
