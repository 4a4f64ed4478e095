package io.mtpspark.engine.sampling;

import java.util.SplittableRandom;

/**
 * Picks tokens from logits per {@link SamplingOptions}. Greedy argmax breaks ties toward the lowest id. Sampling
 * uses preallocated index/probability buffers (no allocation per token) and a seeded generator, so the same seed
 * gives the same tokens.
 */
public final class Sampler {
    private final SamplingOptions options;
    private final SplittableRandom random;
    private final float[] probs;
    private final int[] order;

    public Sampler(SamplingOptions options, int vocabSize) {
        this.options = options;
        this.random = new SplittableRandom(options.seed());
        this.probs = new float[vocabSize];
        this.order = new int[vocabSize];
    }

    public SamplingOptions options() {
        return options;
    }

    public static int argmax(float[] logits, int off, int n) {
        int best = 0;
        float bestVal = logits[off];
        for (int i = 1; i < n; i++) {
            if (logits[off + i] > bestVal) {
                bestVal = logits[off + i];
                best = i;
            }
        }
        return best;
    }

    /** Picks the next token from {@code logits[off .. off+n)}. */
    public int sample(float[] logits, int off, int n) {
        if (options.greedy()) {
            return argmax(logits, off, n);
        }
        distribution(logits, off, n, probs);
        return draw(probs, n, (float) random.nextDouble());
    }

    /** The next-token distribution after temperature, top-k and top-p, written into {@code out[0..n)}. */
    public void distribution(float[] logits, int off, int n, float[] out) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[off + i]);
        }
        float inv = 1f / options.temperature();
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp((logits[off + i] - max) * inv);
            out[i] = e;
            sum += e;
        }
        for (int i = 0; i < n; i++) {
            out[i] /= (float) sum;
        }
        if (options.topK() > 0 && options.topK() < n || options.topP() < 1f) {
            truncate(out, n);
        }
    }

    /** Keeps the top-k and the top-p nucleus of a normalised distribution, zeroing and renormalising the rest. */
    private void truncate(float[] p, int n) {
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        sortByProbDescending(p, n);
        int keep = options.topK() > 0 ? Math.min(options.topK(), n) : n;
        if (options.topP() < 1f) {
            double cum = 0;
            for (int i = 0; i < keep; i++) {
                cum += p[order[i]];
                if (cum >= options.topP()) {
                    keep = i + 1;
                    break;
                }
            }
        }
        double kept = 0;
        for (int i = 0; i < keep; i++) {
            kept += p[order[i]];
        }
        for (int i = keep; i < n; i++) {
            p[order[i]] = 0f;
        }
        for (int i = 0; i < keep; i++) {
            p[order[i]] /= (float) kept;
        }
    }

    /** Heap sort of {@code order} by descending probability: in place, no allocation, O(n log n). */
    private void sortByProbDescending(float[] p, int n) {
        for (int i = n / 2 - 1; i >= 0; i--) {
            siftDown(p, i, n);
        }
        for (int end = n - 1; end > 0; end--) {
            int t = order[0];
            order[0] = order[end];
            order[end] = t;
            siftDown(p, 0, end);
        }
    }

    // min-heap on probability (ties: larger id is "smaller") so the final array is descending, ties by ascending id
    private void siftDown(float[] p, int i, int n) {
        while (true) {
            int l = 2 * i + 1;
            if (l >= n) {
                return;
            }
            int m = l;
            if (l + 1 < n && less(p, order[l + 1], order[l])) {
                m = l + 1;
            }
            if (!less(p, order[m], order[i])) {
                return;
            }
            int t = order[i];
            order[i] = order[m];
            order[m] = t;
            i = m;
        }
    }

    private static boolean less(float[] p, int a, int b) {
        return p[a] < p[b] || (p[a] == p[b] && a > b);
    }

    /** Inverse-CDF draw from a distribution {@code p[0..n)} with a uniform {@code coin} in [0, 1). */
    public static int draw(float[] p, int n, float coin) {
        float cdf = 0f;
        int last = 0;
        for (int i = 0; i < n; i++) {
            if (p[i] > 0f) {
                cdf += p[i];
                last = i;
                if (coin < cdf) {
                    return i;
                }
            }
        }
        return last; // rounding: coin landed past the accumulated mass
    }

    /** Uniform draw in [0, 1) from this sampler's seeded generator (speculative acceptance tests use it). */
    public float nextUniform() {
        return (float) random.nextDouble();
    }
}
