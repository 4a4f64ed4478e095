package io.mtpspark.engine.mtp;

import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.GenerationRequest;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.kvcache.KvCache;
import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.RandomModel;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.ScalarBackend;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The distribution test of speculative sampling: a tiny model without stop tokens, the exact marginals of its 2nd
 * and 3rd sampled tokens (by enumeration with the plain forward), fixed drafts (the most likely 2nd and 3rd tokens, so
 * they are often accepted and often rejected); a decoder passes when its 2nd and 3rd tokens over many seeded runs
 * pass a chi-square test against those marginals. Shared by the host decoders' and the device's tests.
 */
public final class SamplingCase {
    public final LlamaModel model;
    public final int vocab = 10;
    public final int[] prompt = {1, 4};
    public final float temperature = 1.0f;
    final double[] m2 = new double[vocab];
    final double[] m3 = new double[vocab];
    public final Drafter fixed;

    public SamplingCase() {
        var tiny = RandomModel.tinyConfig(10, false);
        // no stop token inside the vocabulary, so every run emits exactly three tokens
        var noStop = new io.mtpspark.engine.model.LlamaConfig(tiny.architecture(), tiny.dim(), tiny.hiddenDim(),
                tiny.nLayers(), tiny.nHeads(), tiny.nKvHeads(), 10, tiny.seqLen(), tiny.headDim(),
                tiny.ropeTheta(), tiny.rmsNormEps(), null, false, false, 99, 99, false);
        model = RandomModel.create(noStop, 17);
        double[] p1 = probs(model, prompt, temperature);
        for (int a = 0; a < vocab; a++) {
            double[] p2 = probs(model, new int[]{1, 4, a}, temperature);
            for (int b = 0; b < vocab; b++) {
                m2[b] += p1[a] * p2[b];
                double[] p3 = probs(model, new int[]{1, 4, a, b}, temperature);
                for (int c = 0; c < vocab; c++) {
                    m3[c] += p1[a] * p2[b] * p3[c];
                }
            }
        }
        int d1 = argmax(m2);
        int d2 = argmax(m3);
        fixed = (prev, prevPos, hidden, firstRow, count, drafts) -> {
            for (int j = 0; j < count; j++) {
                drafts[j] = j % 2 == 0 ? d1 : d2;
            }
        };
    }

    /** 20,000 seeded runs, one request at a time (run s with seed s). */
    public void check(IntFunction<Decoder> decoder) {
        int runs = 20_000;
        List<GenerationResult> results = new ArrayList<>();
        for (int s = 0; s < runs; s++) {
            results.add(decoder.apply(s).generate(prompt, 3, new SamplingOptions(temperature, 0, 1f, s)));
        }
        assertMarginals(results);
    }

    /** {@code runs} seeded requests (seed = index) decoded together by a batched decoder. */
    public void checkBatched(Decoder decoder, int runs) {
        List<GenerationRequest> requests = new ArrayList<>();
        for (int s = 0; s < runs; s++) {
            requests.add(new GenerationRequest(prompt, 3, new SamplingOptions(temperature, 0, 1f, s)));
        }
        assertMarginals(decoder.generateAll(requests));
    }

    private void assertMarginals(List<GenerationResult> results) {
        int runs = results.size();
        long[] c2 = new long[vocab];
        long[] c3 = new long[vocab];
        long accepted = 0;
        for (GenerationResult r : results) {
            assertEquals(3, r.generatedIds().length);
            c2[r.generatedIds()[1]]++;
            c3[r.generatedIds()[2]]++;
            accepted += r.stats().draftsAccepted()[0];
        }
        assertTrue(accepted > runs / 40 && accepted < runs - runs / 40, "drafts both accepted and rejected: "
                + accepted + " of " + runs);
        // 9 degrees of freedom: the 0.999 quantile is 27.88
        assertTrue(chiSquare(c2, m2, runs) < 27.88, "token 2 chi-square " + chiSquare(c2, m2, runs));
        assertTrue(chiSquare(c3, m3, runs) < 27.88, "token 3 chi-square " + chiSquare(c3, m3, runs));
    }

    private static int argmax(double[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) {
            if (p[i] > p[best]) {
                best = i;
            }
        }
        return best;
    }

    private static double chiSquare(long[] observed, double[] p, int n) {
        double chi = 0;
        for (int i = 0; i < p.length; i++) {
            double e = p[i] * n;
            chi += (observed[i] - e) * (observed[i] - e) / e;
        }
        return chi;
    }

    private static double[] probs(LlamaModel model, int[] seq, float temperature) {
        LlamaForward f = new LlamaForward(model, new ScalarBackend(), 8, 64);
        KvCache cache = new KvCache(model.config(), 64);
        int[] pos = new int[seq.length];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = i;
        }
        f.forward(seq, pos, seq.length, AttentionMask.CAUSAL, cache, new int[]{seq.length - 1}, 1);
        int v = model.config().vocabSize();
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) {
            max = Math.max(max, f.logits()[i]);
        }
        double[] p = new double[v];
        double z = 0;
        for (int i = 0; i < v; i++) {
            p[i] = Math.exp((f.logits()[i] - max) / temperature);
            z += p[i];
        }
        for (int i = 0; i < v; i++) {
            p[i] /= z;
        }
        return p;
    }
}
