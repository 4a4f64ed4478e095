package io.mtpspark.engine.device;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The exactness premise of MTP on a device (GPU_ENGINE.md §3): a GEMM's output row does not depend on how many rows
 * the call has. The device forward's weight GEMM ({@code C = Wᵀ · X}, X one column per row) for 1, 9, 17, 81 and 128
 * rows gives each row bit for bit what the 1-row call gives, F32 and BF16, with beta 0 and 1. On the emulator this
 * holds by construction; on the GPU ({@code -Dmtp.test.device=cuda}, the run kit) it checks the pinned cuBLASLt
 * algorithm (no split-K, one algorithm per weight shape) or, with {@code -Dmtp.cuda.gemm=default}, cuBLAS's own
 * choice.
 */
class GemmRowIndependenceTest {
    private static DeviceApi d;

    @BeforeAll
    static void open() {
        d = TestDevices.open();
    }

    @AfterAll
    static void close() {
        if (d != null) {
            d.close();
        }
    }

    @Test
    void eachRowIsTheOneRowResultBitForBit() {
        for (ElementType t : ElementType.values()) {
            for (float beta : new float[]{0f, 1f}) {
                check(t, beta, 96, 288);
                check(t, beta, 320, 64);
            }
        }
    }

    private static void check(ElementType t, float beta, int in, int out) {
        int maxRows = 128;
        SplittableRandom rng = new SplittableRandom(in * 31L + out);
        long w = d.malloc((long) in * out * t.bytes());
        long x = d.malloc((long) maxRows * in * t.bytes());
        long c = d.malloc((long) maxRows * out * 4);
        long ref = d.malloc((long) maxRows * out * 4);
        try (HostBuffer hw = d.pinned((long) in * out * 4); HostBuffer hx = d.pinned((long) maxRows * in * 4);
             HostBuffer hc = d.pinned((long) maxRows * out * 4); HostBuffer got = d.pinned((long) maxRows * out * 4);
             HostBuffer one = d.pinned((long) out * 4)) {
            fill(hw, in * out, t, rng);
            fill(hx, maxRows * in, t, rng);
            fill(hc, maxRows * out, ElementType.F32, rng);
            d.copyToDevice(w, hw, 0, (long) in * out * t.bytes());
            d.copyToDevice(x, hx, 0, (long) maxRows * in * t.bytes());
            for (int rows : new int[]{1, 9, 17, 81, 128}) {
                d.copyToDevice(c, hc, 0, (long) maxRows * out * 4);
                d.gemm(true, false, out, rows, in, 1f, w, t, in, x, t, in, beta, c, ElementType.F32, out);
                d.copyToHost(got, 0, c, (long) rows * out * 4);
                d.sync();
                for (int r = 0; r < rows; r++) {
                    // row r alone: a 1-row call on the same operands
                    d.copyToDevice(ref, hc, (long) r * out * 4, (long) out * 4);
                    d.gemm(true, false, out, 1, in, 1f, w, t, in, x + (long) r * in * t.bytes(), t, in, beta, ref,
                            ElementType.F32, out);
                    d.copyToHost(one, 0, ref, (long) out * 4);
                    d.sync();
                    for (int o = 0; o < out; o++) {
                        int a = one.bytes().getInt(4 * o);
                        int b = got.bytes().getInt(4 * (r * out + o));
                        assertEquals(a, b, t + " beta " + beta + " " + in + "->" + out + ": row " + r + " of a "
                                + rows + "-row GEMM, column " + o + ": " + Float.intBitsToFloat(b) + " vs the 1-row "
                                + Float.intBitsToFloat(a));
                    }
                }
            }
        } finally {
            for (long p : new long[]{w, x, c, ref}) {
                d.free(p);
            }
        }
    }

    /** Random values in [-1, 1) as F32, or as BF16 pairs packed two per int. */
    private static void fill(HostBuffer h, int n, ElementType t, SplittableRandom rng) {
        for (int i = 0; i < n; i++) {
            float v = (float) (rng.nextDouble() * 2 - 1);
            if (t == ElementType.F32) {
                h.bytes().putFloat(4 * i, v);
            } else {
                h.bytes().putShort(2 * i, (short) (Float.floatToRawIntBits(v) >>> 16));
            }
        }
    }
}
