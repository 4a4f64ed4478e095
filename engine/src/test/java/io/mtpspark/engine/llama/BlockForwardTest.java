package io.mtpspark.engine.llama;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.kvcache.KvCache;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.RandomModel;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tensor.ScalarBackend;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A block of n tokens must give the logits and KV entries of n single-token steps. */
class BlockForwardTest {

    @Test
    void blockEqualsSingleStepsOnStories() {
        check(TestModels.stories(), TestModels.greedyGoldens().get(1).generatedIds());
    }

    @Test
    void blockEqualsSingleStepsOnRandomGqaModel() {
        check(RandomModel.create(RandomModel.tinyConfig(96, true), 11), new int[]{4, 8, 15, 16, 23, 42, 1, 2, 3, 5});
    }

    private static void check(LlamaModel m, int[] seq) {
        int n = 9;
        int vocab = m.config().vocabSize();
        int[] prefix = Arrays.copyOf(seq, 3);
        int[] block = Arrays.copyOfRange(seq, 3, 3 + n);
        // reference: one token at a time
        LlamaForward single = new LlamaForward(m, new CpuBackend(1), 1, 64);
        KvCache c1 = new KvCache(m.config(), 64);
        float[][] ref = new float[n][];
        int[] all = new int[3 + n];
        System.arraycopy(prefix, 0, all, 0, 3);
        System.arraycopy(block, 0, all, 3, n);
        for (int p = 0; p < all.length; p++) {
            single.forward(new int[]{all[p]}, new int[]{p}, 1, AttentionMask.CAUSAL, c1, new int[]{0}, 1);
            if (p >= 3) {
                ref[p - 3] = Arrays.copyOf(single.logits(), vocab);
            }
        }
        // block: prefix of 3, then n rows at once, all rows' logits
        LlamaForward blockFwd = new LlamaForward(m, new CpuBackend(2), 16, 64);
        KvCache c2 = new KvCache(m.config(), 64);
        blockFwd.forward(prefix, new int[]{0, 1, 2}, 3, AttentionMask.CAUSAL, c2, null, 0);
        int[] pos = new int[n];
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            pos[i] = 3 + i;
            rows[i] = i;
        }
        blockFwd.forward(block, pos, n, AttentionMask.CAUSAL, c2, rows, n);
        for (int i = 0; i < n; i++) {
            for (int v = 0; v < vocab; v++) {
                // bit-identical: the kernels' summation order does not depend on the number of rows
                assertEquals(ref[i][v], blockFwd.logits()[i * vocab + v], 0f, "row " + i + " logit " + v);
            }
        }
        assertEquals(c1.length(), c2.length());
        for (int l = 0; l < m.config().nLayers(); l++) {
            for (int i = 0; i < c1.length() * m.config().kvDim(); i++) {
                assertEquals(c1.keys(l)[i], c2.keys(l)[i], 0f);
                assertEquals(c1.values(l)[i], c2.values(l)[i], 0f);
            }
        }
    }

    /**
     * An explicit mask that hides some block rows from others must equal running only the visible tokens: here
     * rows [a, b, c] where c may not see b equal the sequence [a, c] with c's position kept.
     */
    @Test
    void maskedColumnsAreInvisible() {
        LlamaModel m = RandomModel.create(RandomModel.tinyConfig(64, false), 12);
        int vocab = m.config().vocabSize();
        LlamaForward f = new LlamaForward(m, new ScalarBackend(), 4, 32);
        KvCache cache = new KvCache(m.config(), 32);
        f.forward(new int[]{1, 7}, new int[]{0, 1}, 2, AttentionMask.CAUSAL, cache, null, 0);
        boolean[] local = {
                true, false, false,
                true, true, false,
                true, false, true};
        f.forward(new int[]{9, 13, 21}, new int[]{2, 3, 3}, 3, AttentionMask.cachePlusLocal(local, 3), cache,
                new int[]{2}, 1);
        float[] masked = Arrays.copyOf(f.logits(), vocab);
        cache.truncate(2);
        f.forward(new int[]{9, 21}, new int[]{2, 3}, 2, AttentionMask.CAUSAL, cache, new int[]{1}, 1);
        for (int v = 0; v < vocab; v++) {
            assertEquals(f.logits()[v], masked[v], 0f);
        }
    }
}
