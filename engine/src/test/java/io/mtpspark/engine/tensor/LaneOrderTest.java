package io.mtpspark.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link VectorKernels#inOrder} adds a vector's lanes in lane order, bit for bit, before and after the JIT compiles
 * it: every matmul's row sums and every softmax denominator go through it, so a tier that added the lanes in another
 * order (JDK 25's C2 compiles {@code reduceLanes(ADD)} pairwise) would make a block differ from its single steps.
 * Enough calls for C2 to compile the method, on values whose sum depends on the order.
 */
class LaneOrderTest {
    @Test
    void lanesAreAddedInLaneOrderInEveryTier() {
        SplittableRandom rng = new SplittableRandom(7);
        for (VectorSpecies<Float> species : new VectorSpecies[]{FloatVector.SPECIES_128, FloatVector.SPECIES_256}) {
            int l = species.length();
            float[] lanes = new float[l];
            int differsFromPairwise = 0;
            for (int call = 0; call < 200_000; call++) {
                for (int k = 0; k < l; k++) { // magnitudes far apart: most orders round differently
                    lanes[k] = (float) (rng.nextDouble(-1, 1) * Math.pow(2, rng.nextInt(-20, 20)));
                }
                float want = 0f;
                for (float lane : lanes) {
                    want += lane;
                }
                float pairwise = l == 4 ? (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) : want;
                if (Float.floatToRawIntBits(pairwise) != Float.floatToRawIntBits(want)) {
                    differsFromPairwise++;
                }
                float got = VectorKernels.inOrder(FloatVector.fromArray(species, lanes, 0));
                if (Float.floatToRawIntBits(got) != Float.floatToRawIntBits(want)) {
                    assertEquals(want, got, 0f, species + " call " + call);
                }
            }
            if (l == 4) {
                assertEquals(true, differsFromPairwise > 1000, "the values tell the orders apart");
            }
        }
    }
}
