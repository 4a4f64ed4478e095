package io.mtpspark.engine.tensor;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernels' e^x ({@link VectorKernels#exp}): the same bits however warm the JIT is (the Vector API's EXP gave one
 * softmax weight in 64 a different last bit once C2 had compiled it), the same bits in a vector lane and in the
 * scalar tail, and within 2 ulp of {@link Math#exp} over the range the forward uses.
 */
class ExpTest {

    @Test
    void softmaxWeightsKeepTheirBitsFromTheFirstCallToTheCompiledOne() {
        SplittableRandom rng = new SplittableRandom(1);
        float[] v = new float[64];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextDouble() * 20 - 10);
        }
        float[] first = v.clone();
        float firstSum = VectorKernels.expShiftSum(first, 0, first.length, 0.25f);
        for (int call = 0; call < 200_000; call++) { // C2 compiles the kernel well within this
            float[] w = v.clone();
            float sum = VectorKernels.expShiftSum(w, 0, w.length, 0.25f);
            if (call % 1000 == 0 || call == 199_999) {
                assertArrayEquals(first, w, "call " + call);
                assertEquals(firstSum, sum, 0f, "call " + call);
            }
        }
    }

    @Test
    void vectorLanesAndScalarTailAgreeAndStayNearMathExp() {
        SplittableRandom rng = new SplittableRandom(2);
        int l = VectorKernels.lanes();
        float[] v = new float[l];
        float[] out = new float[l];
        double worst = 0;
        for (int it = 0; it < 100_000; it++) {
            for (int i = 0; i < l; i++) {
                v[i] = (float) (rng.nextDouble() * 175 - 87);
            }
            VectorKernels.exp(FloatVector.fromArray(VectorKernels.species(), v, 0)).intoArray(out, 0);
            for (int i = 0; i < l; i++) {
                assertEquals(Float.floatToRawIntBits(VectorKernels.exp(v[i])), Float.floatToRawIntBits(out[i]),
                        "e^" + v[i]);
                double exact = Math.exp(v[i]);
                worst = Math.max(worst, Math.abs(out[i] - exact) / exact);
            }
        }
        assertTrue(worst < 1.2e-7, "worst relative error " + worst + " (2 ulp is about 1.2e-7)");
        assertEquals(1f, VectorKernels.exp(0f), 0f);
        assertTrue(VectorKernels.exp(-1000f) >= 0 && VectorKernels.exp(-1000f) < 1e-37f);
        assertTrue(Float.isFinite(VectorKernels.exp(1000f)));
    }
}
