package io.mtpspark.engine.sampling;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    private final float[] logits = {1f, 3f, 2f, 3f, -1f, 0.5f};

    @Test
    void greedyPicksLowestIdOnTies() {
        assertEquals(1, new Sampler(SamplingOptions.GREEDY, 6).sample(logits, 0, 6));
    }

    @Test
    void sameSeedSameTokens() {
        Sampler a = new Sampler(new SamplingOptions(1f, 0, 1f, 99), 6);
        Sampler b = new Sampler(new SamplingOptions(1f, 0, 1f, 99), 6);
        for (int i = 0; i < 200; i++) {
            assertEquals(a.sample(logits, 0, 6), b.sample(logits, 0, 6));
        }
    }

    @Test
    void topKAndTopPRestrictTheSupport() {
        Sampler k2 = new Sampler(new SamplingOptions(1f, 2, 1f, 1), 6);
        Sampler p = new Sampler(new SamplingOptions(1f, 0, 0.5f, 1), 6);
        int[] seenK = new int[6];
        int[] seenP = new int[6];
        for (int i = 0; i < 2000; i++) {
            seenK[k2.sample(logits, 0, 6)]++;
            seenP[p.sample(logits, 0, 6)]++;
        }
        assertTrue(seenK[1] > 0 && seenK[3] > 0);
        assertEquals(2000, seenK[1] + seenK[3], "top-2 keeps only the two largest logits");
        // the two tied maxima each hold ~36% of the mass: the 0.5 nucleus needs both, nothing else
        assertEquals(2000, seenP[1] + seenP[3]);
    }

    @Test
    void samplingFollowsTheSoftmax() {
        Sampler s = new Sampler(new SamplingOptions(1f, 0, 1f, 5), 6);
        int[] counts = new int[6];
        int n = 60000;
        for (int i = 0; i < n; i++) {
            counts[s.sample(logits, 0, 6)]++;
        }
        double z = 0;
        for (float l : logits) {
            z += Math.exp(l);
        }
        for (int i = 0; i < 6; i++) {
            double expected = Math.exp(logits[i]) / z;
            assertEquals(expected, counts[i] / (double) n, 0.01, "token " + i);
        }
    }

    @Test
    void invalidOptionsNameTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SamplingOptions(1f, 0, 1.5f, 0));
        assertTrue(e.getMessage().contains("top-p"));
        assertThrows(IllegalArgumentException.class, () -> new SamplingOptions(-1f, 0, 1f, 0));
    }
}
