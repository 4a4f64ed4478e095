package io.mtpspark.engine.tensor;

import io.mtpspark.engine.safetensors.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Inner loops on the JDK Vector API (SIMD). Only touched when the {@code jdk.incubator.vector} module is present,
 * so that loading the engine without {@code --add-modules jdk.incubator.vector} still works (on scalar loops).
 */
final class VectorKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Ints of the float shape (the widened 16-bit elements) and shorts of half that shape (as many lanes). */
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class,
            VectorShape.forBitSize(S.vectorBitSize() / 2));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private VectorKernels() {
    }

    static int lanes() {
        return S.length();
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        float s;
        if (n >= 2 * S.length()) {
            FloatVector acc0 = FloatVector.zero(S);
            FloatVector acc1 = FloatVector.zero(S);
            int bound = n - n % (2 * S.length());
            for (; i < bound; i += 2 * S.length()) {
                acc0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc0);
                acc1 = FloatVector.fromArray(S, a, aOff + i + S.length())
                        .fma(FloatVector.fromArray(S, b, bOff + i + S.length()), acc1);
            }
            s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        } else {
            s = 0f;
        }
        for (; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    /**
     * Four input rows against one weight row: the weight is loaded once per four dot products. Each row's sum is
     * formed exactly as {@link #dot} forms it (same chunking, accumulators, reduction and tail order), so a row's
     * result does not depend on how many rows share the block: real tokens inside an MTP block get bit-identical
     * logits to single-token decoding, which is what keeps greedy MTP exactly equal to autoregressive decoding.
     */
    static void dot4(float[] x, int x0, int x1, int x2, int x3, float[] w, int wOff, int n, float[] out, int o0,
                     int stride) {
        int l = S.length();
        int i = 0;
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        if (n >= 2 * l) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector b0 = FloatVector.zero(S);
            FloatVector a1 = FloatVector.zero(S);
            FloatVector b1 = FloatVector.zero(S);
            FloatVector a2 = FloatVector.zero(S);
            FloatVector b2 = FloatVector.zero(S);
            FloatVector a3 = FloatVector.zero(S);
            FloatVector b3 = FloatVector.zero(S);
            int bound = n - n % (2 * l);
            for (; i < bound; i += 2 * l) {
                FloatVector we = FloatVector.fromArray(S, w, wOff + i);
                FloatVector wo = FloatVector.fromArray(S, w, wOff + i + l);
                a0 = FloatVector.fromArray(S, x, x0 + i).fma(we, a0);
                b0 = FloatVector.fromArray(S, x, x0 + i + l).fma(wo, b0);
                a1 = FloatVector.fromArray(S, x, x1 + i).fma(we, a1);
                b1 = FloatVector.fromArray(S, x, x1 + i + l).fma(wo, b1);
                a2 = FloatVector.fromArray(S, x, x2 + i).fma(we, a2);
                b2 = FloatVector.fromArray(S, x, x2 + i + l).fma(wo, b2);
                a3 = FloatVector.fromArray(S, x, x3 + i).fma(we, a3);
                b3 = FloatVector.fromArray(S, x, x3 + i + l).fma(wo, b3);
            }
            s0 = a0.add(b0).reduceLanes(VectorOperators.ADD);
            s1 = a1.add(b1).reduceLanes(VectorOperators.ADD);
            s2 = a2.add(b2).reduceLanes(VectorOperators.ADD);
            s3 = a3.add(b3).reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            float wi = w[wOff + i];
            s0 += x[x0 + i] * wi;
            s1 += x[x1 + i] * wi;
            s2 += x[x2 + i] * wi;
            s3 += x[x3 + i] * wi;
        }
        out[o0] = s0;
        out[o0 + stride] = s1;
        out[o0 + 2 * stride] = s2;
        out[o0 + 3 * stride] = s3;
    }

    /**
     * Elements {@code [from, from + n)} of a little-endian F32/BF16/F16 buffer widened to floats in {@code dst[0, n)}:
     * each vector of 16-bit elements is widened in registers (BF16: shift into the upper half; F16: rebias the
     * exponent, subnormals through an exact power-of-two multiply, Inf/NaN kept). Exact: the same values as
     * {@link DType#bf16ToFloat} / {@link DType#f16ToFloat}.
     */
    static void widen(ByteBuffer src, DType dtype, long from, float[] dst, int n) {
        int l = S.length();
        int i = 0;
        int bound = S.loopBound(n);
        switch (dtype) {
            case F32 -> {
                int base = (int) (from * 4);
                for (; i < bound; i += l) {
                    FloatVector.fromByteBuffer(S, src, base + i * 4, LE).intoArray(dst, i);
                }
                for (; i < n; i++) {
                    dst[i] = src.getFloat(base + i * 4);
                }
            }
            case BF16 -> {
                int base = (int) (from * 2);
                for (; i < bound; i += l) {
                    bf16(ShortVector.fromByteBuffer(H, src, base + i * 2, LE)).intoArray(dst, i);
                }
                for (; i < n; i++) {
                    dst[i] = DType.bf16ToFloat(src.getShort(base + i * 2));
                }
            }
            case F16 -> {
                int base = (int) (from * 2);
                for (; i < bound; i += l) {
                    f16(ShortVector.fromByteBuffer(H, src, base + i * 2, LE)).intoArray(dst, i);
                }
                for (; i < n; i++) {
                    dst[i] = DType.f16ToFloat(src.getShort(base + i * 2));
                }
            }
        }
    }

    private static IntVector toInts(ShortVector h) {
        return (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
    }

    private static FloatVector bf16(ShortVector h) {
        return toInts(h).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector f16(ShortVector h) {
        IntVector bits = toInts(h);
        IntVector sign = bits.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector magnitude = bits.and(0x7fff);
        IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
        // normal and subnormal halves: the shifted bits read as a float are the value times 2^-112
        IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = magnitude.compare(VectorOperators.GE, 0x7c00);
        IntVector widened = finite.blend(shifted.or(0x7f800000), special);
        return widened.or(sign).reinterpretAsFloats();
    }

    static void axpy(float[] y, int yOff, float a, float[] x, int xOff, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        FloatVector av = FloatVector.broadcast(S, a);
        for (; i < bound; i += S.length()) {
            FloatVector.fromArray(S, x, xOff + i).fma(av, FloatVector.fromArray(S, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    static float expShiftSum(float[] a, int off, int n, float shift) {
        int i = 0;
        int bound = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        for (; i < bound; i += S.length()) {
            FloatVector e = FloatVector.fromArray(S, a, off + i).sub(shift).lanewise(VectorOperators.EXP);
            e.intoArray(a, off + i);
            acc = acc.add(e);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(a[off + i] - shift);
            a[off + i] = e;
            sum += e;
        }
        return sum;
    }

    static void siluMul(float[] h, float[] g, int off, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        for (; i < bound; i += S.length()) {
            FloatVector x = FloatVector.fromArray(S, h, off + i);
            FloatVector sig = x.neg().lanewise(VectorOperators.EXP).add(1f);
            x.div(sig).mul(FloatVector.fromArray(S, g, off + i)).intoArray(h, off + i);
        }
        for (; i < n; i++) {
            float x = h[off + i];
            h[off + i] = x / (1.0f + (float) Math.exp(-x)) * g[off + i];
        }
    }
}
