package io.mtpspark.engine.tensor;

import io.mtpspark.engine.safetensors.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Inner loops on the JDK Vector API (SIMD). Only touched when the {@code jdk.incubator.vector} module is present,
 * so that loading the engine without {@code --add-modules jdk.incubator.vector} still works (on scalar loops).
 */
final class VectorKernels {
    /** The preferred species, or a narrower one (see {@link SimdWidth}). */
    private static final VectorSpecies<Float> S = VectorSpecies.of(float.class,
            VectorShape.forBitSize(Float.SIZE * SimdWidth.fix(FloatVector.SPECIES_PREFERRED.length())));
    /** Ints of the float shape (the widened 16-bit elements) and shorts of half that shape (as many lanes). */
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class,
            VectorShape.forBitSize(S.vectorBitSize() / 2));
    /** Shorts of the float shape: twice its lanes, a vector of 16-bit pairs read from a heap array. */
    private static final VectorSpecies<Short> P = VectorSpecies.of(short.class, S.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /**
     * The chunk step of the matmul tiles' loops on 16-register machines (AVX2), read from a field that is not final,
     * so C2 cannot fold it: a loop whose stride is not a constant is not a counted loop, and C2 neither unrolls it
     * nor schedules one copy's loads into another's. Unrolled four times (its default), a two-row tile's eight
     * accumulators, four weight and two input vectors exceed the sixteen registers, and the accumulators spill to the
     * stack inside the loop (seen in the disassembly). The sums are the same FMAs in the same order either way.
     * Measured (one thread, Zen 3, in L1/L2; docs/BENCHMARKS.md, issue 15): the 2x4 blocked tile 44 → 66 GFLOP/s
     * (which has since gone to a counted loop of two chunks an iteration, faster still: see {@link #block2x4}).
     * With 32 registers (AVX-512) the loops stay counted, as the tiles were tuned there.
     */
    @SuppressWarnings("FieldMayBeFinal")
    private static int unfoldedStep = S.length();

    /** The step of a tile loop: a constant with AVX-512, {@link #unfoldedStep} with AVX2. */
    private static int step() {
        return S.length() >= 16 ? S.length() : unfoldedStep;
    }

    private VectorKernels() {
    }

    private static final VectorSpecies<Float> S128 = FloatVector.SPECIES_128;
    /** Lane i ↔ lane i + L/2, and within each half lane i ↔ lane i + L/4 (for L ≥ 8). */
    private static final VectorShuffle<Float> SWAP_HALVES = VectorShuffle.fromOp(S, i -> (i + S.length() / 2) % S.length());
    private static final VectorShuffle<Float> SWAP_QUARTERS = VectorShuffle.fromOp(S,
            i -> i / (S.length() / 2) * (S.length() / 2) + (i + S.length() / 4) % (S.length() / 2));

    /**
     * The sum of a matmul accumulator's lanes, in one order every matmul kernel shares (so a row's sum is the same
     * bits whichever tile computes it): halves added, then quarters (16 lanes), then the four remaining lanes in
     * order. {@code reduceLanes(ADD)} on JDK 17 adds the lanes one after another, a chain of L dependent adds that
     * was about 40% of a stories260K token; this is two shuffles, two vector adds and three scalar adds.
     */
    static float laneSum(FloatVector a) {
        if (S.length() < 8) {
            return inOrder(a);
        }
        FloatVector v = a.add(a.rearrange(SWAP_HALVES));
        if (S.length() >= 16) {
            v = v.add(v.rearrange(SWAP_QUARTERS));
        }
        return inOrder((FloatVector) v.reinterpretShape(S128, 0));
    }

    /**
     * {@link #laneSum} of the accumulator parked at {@code acc[off]}, the same adds in the same order, written out
     * with no call that takes a vector. Where a kernel is large, C2 reaches its node-count cutoff and leaves some of
     * its calls out of line; a vector passed to such a call is boxed (an object and its lane array each time). In the
     * 81-row block, the LoRA branch's four-row tiles finished through {@code laneSum(FloatVector.fromArray(...))}
     * this way allocated 20 GB in a 25 s run, and their finishes took 10% of its samples (JFR, issue 15). This form
     * takes an array and an index: left out of line, it boxes nothing.
     */
    static float laneSumAt(float[] acc, int off) {
        FloatVector v = FloatVector.fromArray(S, acc, off);
        if (S.length() >= 8) {
            v = v.add(v.rearrange(SWAP_HALVES));
        }
        if (S.length() >= 16) {
            v = v.add(v.rearrange(SWAP_QUARTERS));
        }
        FloatVector q = (FloatVector) v.reinterpretShape(S128, 0);
        return REDUCE_IN_ORDER ? q.reduceLanes(VectorOperators.ADD)
                : 0f + q.lane(0) + q.lane(1) + q.lane(2) + q.lane(3);
    }

    /**
     * Whether this JDK's C2 compiles {@code reduceLanes(ADD)} over floats to the order its interpreter and C1 use
     * (lane after lane from 0): JDK 17 does. JDK 25's C2 adds the lanes pairwise, so the same call gave other bits
     * once compiled, and a block and the single steps it must equal differed in the last bit (BlockForwardTest, run
     * on JDK 25). Later JDKs therefore add the lanes by hand, in the same order: the same bits on every JDK.
     */
    private static final boolean REDUCE_IN_ORDER = Runtime.version().feature() <= 17;

    /**
     * The lanes of {@code v} added one after another from 0, lane 0 first, in every JIT tier and on every JDK: JDK
     * 17's {@code reduceLanes(ADD)} (the fastest there, two shuffles fewer than a tree measured in a one-process A/B),
     * or lane extracts elsewhere.
     */
    static float inOrder(FloatVector v) {
        if (REDUCE_IN_ORDER) {
            return v.reduceLanes(VectorOperators.ADD);
        }
        if (v.length() == 4) { // constant lane indices for C2
            return 0f + v.lane(0) + v.lane(1) + v.lane(2) + v.lane(3);
        }
        float s = 0f;
        for (int k = 0; k < v.length(); k++) {
            s += v.lane(k);
        }
        return s;
    }

    static int lanes() {
        return S.length();
    }

    /** The float species every kernel uses (for tests that call a kernel's vector form). */
    static VectorSpecies<Float> species() {
        return S;
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
            s = laneSum(acc0.add(acc1));
        } else {
            s = 0f;
        }
        for (; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    // Pair order. A 16-bit weight row is read as ints, two elements per lane: each block of 2·L elements (L lanes)
    // becomes the vector of its even elements, then the vector of its odd ones, which shift and mask widen without
    // a shuffle (a 16-byte load widened lane by lane ran at a third of the speed). The kernels over 16-bit weights
    // therefore sum in pair order: the inputs are put in the same order (pairOrder), the panels are widened in it,
    // and an element's product lands in the same lane and step on every path. A tail of one L-chunk and the scalar
    // rest stay in natural order. F32 weights keep natural order, so a mapped F32 weight is bit-identical to the heap.

    /** {@code n} elements from {@code src[s0]} into {@code dst[d0]} in pair order (see above); src and dst differ. */
    static void pairOrder(float[] src, int s0, float[] dst, int d0, int n) {
        int l = S.length();
        int bound2 = n - n % (2 * l);
        for (int b = 0; b < bound2; b += 2 * l) {
            for (int j = 0; j < l; j++) {
                dst[d0 + b + j] = src[s0 + b + 2 * j];
                dst[d0 + b + l + j] = src[s0 + b + 2 * j + 1];
            }
        }
        System.arraycopy(src, s0 + bound2, dst, d0 + bound2, n - bound2);
    }

    /**
     * Elements {@code [s0, s0 + n)} of staged 16-bit bits (BF16 with {@code brain}, else F16) widened to floats in
     * pair order: vector chunk c to {@code dst[base + c·chunkStride]}, the scalar tail to
     * {@code dst[tailBase, tailBase + n − loopBound(n))}. Exact: the values of {@link DType#bf16ToFloat} and
     * {@link DType#f16ToFloat} (F16: exponent rebiased, subnormals through an exact power-of-two multiply, Inf/NaN
     * kept).
     */
    static void widenChunks(short[] src, boolean brain, int s0, float[] dst, int base, int chunkStride, int tailBase,
                            int n) {
        int l = S.length();
        int bound = S.loopBound(n);
        int bound2 = n - n % (2 * l);
        int i = 0;
        for (; i < bound2; i += 2 * l) {
            IntVector v = pairs(src, s0 + i);
            int c = base + i / l * chunkStride;
            evens(v, brain).intoArray(dst, c);
            odds(v, brain).intoArray(dst, c + chunkStride);
        }
        if (i < bound) {
            half(src, s0 + i, brain).intoArray(dst, base + i / l * chunkStride);
        }
        for (i = bound; i < n; i++) {
            dst[tailBase + i - bound] = element(src[s0 + i], brain);
        }
    }

    /** The even elements of a vector of 16-bit pairs, widened. */
    private static FloatVector evens(IntVector pairs, boolean brain) {
        return brain ? pairs.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats() : f16(pairs.and(0xffff));
    }

    /** The odd elements of a vector of 16-bit pairs, widened. */
    private static FloatVector odds(IntVector pairs, boolean brain) {
        return brain ? pairs.and(0xffff0000).reinterpretAsFloats() : f16(pairs.lanewise(VectorOperators.LSHR, 16));
    }

    private static IntVector toInts(ShortVector h) {
        return (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
    }

    /** F16 bit patterns (one per int lane, upper half zero) widened. */
    private static FloatVector f16(IntVector bits) {
        IntVector sign = bits.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector magnitude = bits.and(0x7fff);
        IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
        // normal and subnormal halves: the shifted bits read as a float are the value times 2^-112
        IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = magnitude.compare(VectorOperators.GE, 0x7c00);
        IntVector widened = finite.blend(shifted.or(0x7f800000), special);
        return widened.or(sign).reinterpretAsFloats();
    }

    // Matmul tiles. Every (input row, output) pair is summed the same way in every tile shape: one vector
    // accumulator over the full chunks in order, lanes reduced, then the scalar tail in order. So a row's outputs do
    // not depend on which tile, block or thread computed them (block-shape independence, which exact MTP needs).

    /**
     * Four input rows (at x0 + k·xs) by four weight rows (at w0 + j·ws): out[o0 + k·os + j]. The sixteen accumulators leave through {@code acc} (16 vectors of this
     * thread's scratch) rather than as arguments: with sixteen {@link #laneSum}s inlined, C2 reached its node-count
     * cutoff, left the last finishing calls out of line and boxed their vector arguments (an allocation per tile).
     */
    static void tile4x4(float[] x, int x0, int xs, float[] w, int w0, int ws, int n, float[] out, int o0, int os,
                        float[] acc) {
        int l = S.length();
        int bound = S.loopBound(n);
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int i = 0;
        for (; i < bound; i += l) {
            FloatVector w0v = FloatVector.fromArray(S, w, w0 + i);
            FloatVector w1v = FloatVector.fromArray(S, w, w0 + ws + i);
            FloatVector w2v = FloatVector.fromArray(S, w, w0 + 2 * ws + i);
            FloatVector w3v = FloatVector.fromArray(S, w, w0 + 3 * ws + i);
            FloatVector xv = FloatVector.fromArray(S, x, x0 + i);
            a00 = xv.fma(w0v, a00);
            a01 = xv.fma(w1v, a01);
            a02 = xv.fma(w2v, a02);
            a03 = xv.fma(w3v, a03);
            xv = FloatVector.fromArray(S, x, x0 + xs + i);
            a10 = xv.fma(w0v, a10);
            a11 = xv.fma(w1v, a11);
            a12 = xv.fma(w2v, a12);
            a13 = xv.fma(w3v, a13);
            xv = FloatVector.fromArray(S, x, x0 + 2 * xs + i);
            a20 = xv.fma(w0v, a20);
            a21 = xv.fma(w1v, a21);
            a22 = xv.fma(w2v, a22);
            a23 = xv.fma(w3v, a23);
            xv = FloatVector.fromArray(S, x, x0 + 3 * xs + i);
            a30 = xv.fma(w0v, a30);
            a31 = xv.fma(w1v, a31);
            a32 = xv.fma(w2v, a32);
            a33 = xv.fma(w3v, a33);
        }
        a00.intoArray(acc, 0);
        a01.intoArray(acc, l);
        a02.intoArray(acc, 2 * l);
        a03.intoArray(acc, 3 * l);
        a10.intoArray(acc, 4 * l);
        a11.intoArray(acc, 5 * l);
        a12.intoArray(acc, 6 * l);
        a13.intoArray(acc, 7 * l);
        a20.intoArray(acc, 8 * l);
        a21.intoArray(acc, 9 * l);
        a22.intoArray(acc, 10 * l);
        a23.intoArray(acc, 11 * l);
        a30.intoArray(acc, 12 * l);
        a31.intoArray(acc, 13 * l);
        a32.intoArray(acc, 14 * l);
        a33.intoArray(acc, 15 * l);
        for (int r = 0; r < 4; r++) {
            finish4(acc, 4 * r * l, x, x0 + r * xs, w, w0, ws, bound, n, out, o0 + r * os);
        }
    }

    /**
     * Two input rows by four weight rows: the tile for 16-register machines (AVX2), where 4×4 would spill its
     * sixteen accumulators.
     */
    static void tile2x4(float[] x, int x0, int xs, float[] w, int w0, int ws, int n, float[] out, int o0, int os) {
        int l = S.length();
        int step = step();
        int bound = S.loopBound(n);
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        for (int i = 0; i < bound; i += step) {
            FloatVector x0v = FloatVector.fromArray(S, x, x0 + i);
            FloatVector x1v = FloatVector.fromArray(S, x, x0 + xs + i);
            FloatVector wv = FloatVector.fromArray(S, w, w0 + i);
            a00 = x0v.fma(wv, a00);
            a10 = x1v.fma(wv, a10);
            wv = FloatVector.fromArray(S, w, w0 + ws + i);
            a01 = x0v.fma(wv, a01);
            a11 = x1v.fma(wv, a11);
            wv = FloatVector.fromArray(S, w, w0 + 2 * ws + i);
            a02 = x0v.fma(wv, a02);
            a12 = x1v.fma(wv, a12);
            wv = FloatVector.fromArray(S, w, w0 + 3 * ws + i);
            a03 = x0v.fma(wv, a03);
            a13 = x1v.fma(wv, a13);
        }
        finish4(a00, a01, a02, a03, x, x0, w, w0, ws, bound, n, out, o0);
        finish4(a10, a11, a12, a13, x, x0 + xs, w, w0, ws, bound, n, out, o0 + os);
    }

    // Blocked tiles (blocks of many rows). Over a whole row, a tile's four input rows and four weight rows
    // (64 KB at 2048 floats) overflow L1, so every load came from L2 and L2 bandwidth, not the FMA units, bounded the
    // kernel. These kernels cover chunks [i0, i1) only: the caller runs one block of the length over every input row
    // while the weights' block stays in L1, and carries each tile's vector accumulators in memory from block to
    // block. A lane still sees the same FMAs in the same order, so the sums are the whole-row tiles' bit for bit.
    // Weights come as a panel, inputs as tiles, both chunk-interleaved so that every load of a step is one index plus
    // a constant (C2 then needs one index register instead of eight, and no range check per load):
    //   panel of four weight rows: chunk c of row j at 4·c·L + j·L, row j's scalar tail at
    //   4·bound + j·(n − bound);
    //   tile of R input rows (R = 4 with 32 vector registers, else 2): chunk c of row k at xt + R·c·L + k·L, tails
    //   at xt + R·bound + k·(n − bound).
    // Accumulators of tile row k and weight row j at acc[a0 + (4k + j)·L].

    /** {@code rows} input rows of length n from {@code x} (at x0 + k·n) packed as a tile at {@code xt}; see above. */
    static void packTile(float[] x, int x0, int rows, int n, float[] xp, int xt) {
        int l = S.length();
        int bound = S.loopBound(n);
        int t = n - bound;
        for (int k = 0; k < rows; k++) {
            int src = x0 + k * n;
            for (int i = 0; i < bound; i += l) {
                FloatVector.fromArray(S, x, src + i).intoArray(xp, xt + rows * i + k * l);
            }
            System.arraycopy(x, src + bound, xp, xt + rows * bound + k * t, t);
        }
    }

    /** Row {@code j} of a weight panel (see above) from a float row at {@code row[r0]}. */
    static void toPanel(float[] row, int r0, float[] panel, int j, int n) {
        int l = S.length();
        int bound = S.loopBound(n);
        for (int i = 0; i < bound; i += l) {
            FloatVector.fromArray(S, row, r0 + i).intoArray(panel, 4 * i + j * l);
        }
        System.arraycopy(row, r0 + bound, panel, 4 * bound + j * (n - bound), n - bound);
    }

    /**
     * A weight panel (see above) from four staged 16-bit rows of {@code n} elements at {@code src[e0 + j·n]} (pair
     * order). The rows are read in step, one vector of each per step.
     */
    static void widenPanel(short[] src, int e0, boolean brain, float[] panel, int n) {
        int l = S.length();
        int bound = S.loopBound(n);
        int bound2 = n - n % (2 * l);
        int e1 = e0 + n, e2 = e1 + n, e3 = e2 + n;
        int i = 0;
        for (; i < bound2; i += 2 * l) {
            int q = 4 * i;
            IntVector v0 = pairs(src, e0 + i);
            IntVector v1 = pairs(src, e1 + i);
            IntVector v2 = pairs(src, e2 + i);
            IntVector v3 = pairs(src, e3 + i);
            evens(v0, brain).intoArray(panel, q);
            evens(v1, brain).intoArray(panel, q + l);
            evens(v2, brain).intoArray(panel, q + 2 * l);
            evens(v3, brain).intoArray(panel, q + 3 * l);
            odds(v0, brain).intoArray(panel, q + 4 * l);
            odds(v1, brain).intoArray(panel, q + 5 * l);
            odds(v2, brain).intoArray(panel, q + 6 * l);
            odds(v3, brain).intoArray(panel, q + 7 * l);
        }
        if (i < bound) { // one natural-order chunk left
            int q = 4 * i;
            half(src, e0 + i, brain).intoArray(panel, q);
            half(src, e1 + i, brain).intoArray(panel, q + l);
            half(src, e2 + i, brain).intoArray(panel, q + 2 * l);
            half(src, e3 + i, brain).intoArray(panel, q + 3 * l);
        }
        int t = n - bound;
        int tail = 4 * bound - bound;
        for (i = bound; i < n; i++) {
            panel[tail + i] = element(src[e0 + i], brain);
            panel[tail + t + i] = element(src[e1 + i], brain);
            panel[tail + 2 * t + i] = element(src[e2 + i], brain);
            panel[tail + 3 * t + i] = element(src[e3 + i], brain);
        }
    }

    /** Chunks [i0, i1) of an input tile of four rows (at xt) by a weight panel; see above. */
    static void block4x4(float[] xp, int xt, float[] p, int i0, int i1, boolean first, float[] acc, int a0) {
        int l = S.length();
        FloatVector a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
        if (first) {
            a00 = FloatVector.zero(S);
            a01 = a02 = a03 = a10 = a11 = a12 = a13 = a20 = a21 = a22 = a23 = a30 = a31 = a32 = a33 = a00;
        } else {
            a00 = FloatVector.fromArray(S, acc, a0);
            a01 = FloatVector.fromArray(S, acc, a0 + l);
            a02 = FloatVector.fromArray(S, acc, a0 + 2 * l);
            a03 = FloatVector.fromArray(S, acc, a0 + 3 * l);
            a10 = FloatVector.fromArray(S, acc, a0 + 4 * l);
            a11 = FloatVector.fromArray(S, acc, a0 + 5 * l);
            a12 = FloatVector.fromArray(S, acc, a0 + 6 * l);
            a13 = FloatVector.fromArray(S, acc, a0 + 7 * l);
            a20 = FloatVector.fromArray(S, acc, a0 + 8 * l);
            a21 = FloatVector.fromArray(S, acc, a0 + 9 * l);
            a22 = FloatVector.fromArray(S, acc, a0 + 10 * l);
            a23 = FloatVector.fromArray(S, acc, a0 + 11 * l);
            a30 = FloatVector.fromArray(S, acc, a0 + 12 * l);
            a31 = FloatVector.fromArray(S, acc, a0 + 13 * l);
            a32 = FloatVector.fromArray(S, acc, a0 + 14 * l);
            a33 = FloatVector.fromArray(S, acc, a0 + 15 * l);
        }
        for (int i = i0; i < i1; i += l) {
            int q = 4 * i;
            int u = xt + q;
            FloatVector w0 = FloatVector.fromArray(S, p, q);
            FloatVector w1 = FloatVector.fromArray(S, p, q + l);
            FloatVector w2 = FloatVector.fromArray(S, p, q + 2 * l);
            FloatVector w3 = FloatVector.fromArray(S, p, q + 3 * l);
            FloatVector xv = FloatVector.fromArray(S, xp, u);
            a00 = xv.fma(w0, a00);
            a01 = xv.fma(w1, a01);
            a02 = xv.fma(w2, a02);
            a03 = xv.fma(w3, a03);
            xv = FloatVector.fromArray(S, xp, u + l);
            a10 = xv.fma(w0, a10);
            a11 = xv.fma(w1, a11);
            a12 = xv.fma(w2, a12);
            a13 = xv.fma(w3, a13);
            xv = FloatVector.fromArray(S, xp, u + 2 * l);
            a20 = xv.fma(w0, a20);
            a21 = xv.fma(w1, a21);
            a22 = xv.fma(w2, a22);
            a23 = xv.fma(w3, a23);
            xv = FloatVector.fromArray(S, xp, u + 3 * l);
            a30 = xv.fma(w0, a30);
            a31 = xv.fma(w1, a31);
            a32 = xv.fma(w2, a32);
            a33 = xv.fma(w3, a33);
        }
        a00.intoArray(acc, a0);
        a01.intoArray(acc, a0 + l);
        a02.intoArray(acc, a0 + 2 * l);
        a03.intoArray(acc, a0 + 3 * l);
        a10.intoArray(acc, a0 + 4 * l);
        a11.intoArray(acc, a0 + 5 * l);
        a12.intoArray(acc, a0 + 6 * l);
        a13.intoArray(acc, a0 + 7 * l);
        a20.intoArray(acc, a0 + 8 * l);
        a21.intoArray(acc, a0 + 9 * l);
        a22.intoArray(acc, a0 + 10 * l);
        a23.intoArray(acc, a0 + 11 * l);
        a30.intoArray(acc, a0 + 12 * l);
        a31.intoArray(acc, a0 + 13 * l);
        a32.intoArray(acc, a0 + 14 * l);
        a33.intoArray(acc, a0 + 15 * l);
    }

    /** Chunks [i0, i1) of an input tile of two rows (at xt) by a weight panel; see above. */
    static void block2x4(float[] xp, int xt, float[] p, int i0, int i1, boolean first, float[] acc, int a0) {
        int l = S.length();
        FloatVector a00, a01, a02, a03, a10, a11, a12, a13;
        if (first) {
            a00 = FloatVector.zero(S);
            a01 = a02 = a03 = a10 = a11 = a12 = a13 = a00;
        } else {
            a00 = FloatVector.fromArray(S, acc, a0);
            a01 = FloatVector.fromArray(S, acc, a0 + l);
            a02 = FloatVector.fromArray(S, acc, a0 + 2 * l);
            a03 = FloatVector.fromArray(S, acc, a0 + 3 * l);
            a10 = FloatVector.fromArray(S, acc, a0 + 4 * l);
            a11 = FloatVector.fromArray(S, acc, a0 + 5 * l);
            a12 = FloatVector.fromArray(S, acc, a0 + 6 * l);
            a13 = FloatVector.fromArray(S, acc, a0 + 7 * l);
        }
        int i = i0;
        // two chunks an iteration. Measured in cache, one thread, Zen 3: 70-76 GFLOP/s, against 61-68 for one chunk
        // an iteration with the step() stride and 44 for a counted loop of one chunk (unrolled until it spills); a
        // body of four chunks spills too (31). C2 compiles this form with no unrolling but, as the disassembly shows
        // (perf and gdb, docs/BENCHMARKS.md), with a safepoint poll and four merged range checks per iteration;
        // written as a canonical counted loop (an invariant end) it is unrolled and spills: the 81-row block of the
        // dim-2048 model fell from 55% to 39% of the FMA peak. Same FMAs in the same order: the same sums. The chunk
        // is written out here and again for the tail: a method taking the accumulators would box them wherever C2
        // does not inline it.
        for (; i + 2 * l <= i1; i += 2 * l) {
            int q = 4 * i;
            int u = xt + 2 * i;
            FloatVector w0 = FloatVector.fromArray(S, p, q);
            FloatVector w1 = FloatVector.fromArray(S, p, q + l);
            FloatVector w2 = FloatVector.fromArray(S, p, q + 2 * l);
            FloatVector w3 = FloatVector.fromArray(S, p, q + 3 * l);
            FloatVector xv = FloatVector.fromArray(S, xp, u);
            a00 = xv.fma(w0, a00);
            a01 = xv.fma(w1, a01);
            a02 = xv.fma(w2, a02);
            a03 = xv.fma(w3, a03);
            xv = FloatVector.fromArray(S, xp, u + l);
            a10 = xv.fma(w0, a10);
            a11 = xv.fma(w1, a11);
            a12 = xv.fma(w2, a12);
            a13 = xv.fma(w3, a13);
            q += 4 * l;
            u += 2 * l;
            w0 = FloatVector.fromArray(S, p, q);
            w1 = FloatVector.fromArray(S, p, q + l);
            w2 = FloatVector.fromArray(S, p, q + 2 * l);
            w3 = FloatVector.fromArray(S, p, q + 3 * l);
            xv = FloatVector.fromArray(S, xp, u);
            a00 = xv.fma(w0, a00);
            a01 = xv.fma(w1, a01);
            a02 = xv.fma(w2, a02);
            a03 = xv.fma(w3, a03);
            xv = FloatVector.fromArray(S, xp, u + l);
            a10 = xv.fma(w0, a10);
            a11 = xv.fma(w1, a11);
            a12 = xv.fma(w2, a12);
            a13 = xv.fma(w3, a13);
        }
        if (i < i1) { // one chunk left
            int q = 4 * i;
            int u = xt + 2 * i;
            FloatVector w0 = FloatVector.fromArray(S, p, q);
            FloatVector w1 = FloatVector.fromArray(S, p, q + l);
            FloatVector w2 = FloatVector.fromArray(S, p, q + 2 * l);
            FloatVector w3 = FloatVector.fromArray(S, p, q + 3 * l);
            FloatVector xv = FloatVector.fromArray(S, xp, u);
            a00 = xv.fma(w0, a00);
            a01 = xv.fma(w1, a01);
            a02 = xv.fma(w2, a02);
            a03 = xv.fma(w3, a03);
            xv = FloatVector.fromArray(S, xp, u + l);
            a10 = xv.fma(w0, a10);
            a11 = xv.fma(w1, a11);
            a12 = xv.fma(w2, a12);
            a13 = xv.fma(w3, a13);
        }
        a00.intoArray(acc, a0);
        a01.intoArray(acc, a0 + l);
        a02.intoArray(acc, a0 + 2 * l);
        a03.intoArray(acc, a0 + 3 * l);
        a10.intoArray(acc, a0 + 4 * l);
        a11.intoArray(acc, a0 + 5 * l);
        a12.intoArray(acc, a0 + 6 * l);
        a13.intoArray(acc, a0 + 7 * l);
    }

    /** Chunks [i0, i1) of one input row (row-major at x0) by a weight panel; see above. */
    static void block1x4(float[] x, int x0, float[] p, int i0, int i1, boolean first, float[] acc, int a0) {
        int l = S.length();
        FloatVector c0, c1, c2, c3;
        if (first) {
            c0 = c1 = c2 = c3 = FloatVector.zero(S);
        } else {
            c0 = FloatVector.fromArray(S, acc, a0);
            c1 = FloatVector.fromArray(S, acc, a0 + l);
            c2 = FloatVector.fromArray(S, acc, a0 + 2 * l);
            c3 = FloatVector.fromArray(S, acc, a0 + 3 * l);
        }
        for (int i = i0; i < i1; i += l) {
            int q = 4 * i;
            FloatVector xv = FloatVector.fromArray(S, x, x0 + i);
            c0 = xv.fma(FloatVector.fromArray(S, p, q), c0);
            c1 = xv.fma(FloatVector.fromArray(S, p, q + l), c1);
            c2 = xv.fma(FloatVector.fromArray(S, p, q + 2 * l), c2);
            c3 = xv.fma(FloatVector.fromArray(S, p, q + 3 * l), c3);
        }
        c0.intoArray(acc, a0);
        c1.intoArray(acc, a0 + l);
        c2.intoArray(acc, a0 + 2 * l);
        c3.intoArray(acc, a0 + 3 * l);
    }

    /**
     * out[o0 + j] for one input row from its four carried accumulators (at a0 + j·L): lanes reduced, then the scalar
     * tail in order, the row's tail elements at x[xTail...] and weight row j's in the panel; the sums of
     * {@link #finish4}.
     */
    static void blockFinish(float[] acc, int a0, float[] x, int xTail, float[] p, int bound, int n, float[] out,
                            int o0) {
        int l = S.length();
        float s0 = laneSumAt(acc, a0);
        float s1 = laneSumAt(acc, a0 + l);
        float s2 = laneSumAt(acc, a0 + 2 * l);
        float s3 = laneSumAt(acc, a0 + 3 * l);
        int t = n - bound;
        int w0 = 4 * bound;
        for (int i = 0; i < t; i++) {
            float xi = x[xTail + i];
            s0 += xi * p[w0 + i];
            s1 += xi * p[w0 + t + i];
            s2 += xi * p[w0 + 2 * t + i];
            s3 += xi * p[w0 + 3 * t + i];
        }
        out[o0] = s0;
        out[o0 + 1] = s1;
        out[o0 + 2] = s2;
        out[o0 + 3] = s3;
    }

    /** Whether the 4×4 tile fits the vector registers (32 with AVX-512's 16 lanes; 16 with AVX2's 8). */
    static boolean wideTiles() {
        return S.length() >= 16;
    }

    /** One input row by four weight rows: out[o0 + j]. */
    static void tile1x4(float[] x, int x0, float[] w, int w0, int ws, int n, float[] out, int o0) {
        int l = S.length();
        int bound = S.loopBound(n);
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < bound; i += l) {
            FloatVector xv = FloatVector.fromArray(S, x, x0 + i);
            a0 = xv.fma(FloatVector.fromArray(S, w, w0 + i), a0);
            a1 = xv.fma(FloatVector.fromArray(S, w, w0 + ws + i), a1);
            a2 = xv.fma(FloatVector.fromArray(S, w, w0 + 2 * ws + i), a2);
            a3 = xv.fma(FloatVector.fromArray(S, w, w0 + 3 * ws + i), a3);
        }
        finish4(a0, a1, a2, a3, x, x0, w, w0, ws, bound, n, out, o0);
    }

    // Short rows (a LoRA branch's up-projection: rows of the adapter's rank, 8-32). Summed along a row, each output
    // is one or two vectors of products and then a lane reduction, and the reductions cost more than the products:
    // in the 81-row block of the dim-2048 model these tiles' finishes took as many lane sums as the model's own
    // matmuls. These kernels sum across outputs instead: the weights of L outputs transposed (column i of the group
    // as one vector), each output the chain acc = fma(x_i, w_i, acc) from zero over i in order, L outputs a vector.
    // shortDot is the same chain for one output, so an output has the same bits in a lane or alone.

    /** L weight rows of length n (at w[w0 + j·n]) transposed into {@code wt}: column i at wt[i·L]. */
    static void transposeShort(float[] w, int w0, int n, float[] wt) {
        int l = S.length();
        for (int j = 0; j < l; j++) {
            int src = w0 + j * n;
            for (int i = 0; i < n; i++) {
                wt[i * l + j] = w[src + i];
            }
        }
    }

    /**
     * Four input rows (at x0 + k·xs, length n) by a transposed group of L outputs: out[o0 + k·os + j]. Four rows
     * at once so that four independent FMA chains are in flight.
     */
    static void shortTile4(float[] x, int x0, int xs, int n, float[] wt, float[] out, int o0, int os) {
        int l = S.length();
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int x1 = x0 + xs, x2 = x1 + xs, x3 = x2 + xs;
        for (int i = 0; i < n; i++) {
            FloatVector wv = FloatVector.fromArray(S, wt, i * l);
            a0 = FloatVector.broadcast(S, x[x0 + i]).fma(wv, a0);
            a1 = FloatVector.broadcast(S, x[x1 + i]).fma(wv, a1);
            a2 = FloatVector.broadcast(S, x[x2 + i]).fma(wv, a2);
            a3 = FloatVector.broadcast(S, x[x3 + i]).fma(wv, a3);
        }
        a0.intoArray(out, o0);
        a1.intoArray(out, o0 + os);
        a2.intoArray(out, o0 + 2 * os);
        a3.intoArray(out, o0 + 3 * os);
    }

    /** One input row (at x0, length n) by a transposed group of L outputs: out[o0 + j]. */
    static void shortTile1(float[] x, int x0, int n, float[] wt, float[] out, int o0) {
        int l = S.length();
        FloatVector a = FloatVector.zero(S);
        for (int i = 0; i < n; i++) {
            a = FloatVector.broadcast(S, x[x0 + i]).fma(FloatVector.fromArray(S, wt, i * l), a);
        }
        a.intoArray(out, o0);
    }

    /** One output of a short row: the chain of one lane of {@link #shortTile1}. */
    static float shortDot(float[] x, int x0, float[] w, int w0, int n) {
        float acc = 0f;
        for (int i = 0; i < n; i++) {
            acc = Math.fma(x[x0 + i], w[w0 + i], acc);
        }
        return acc;
    }

    /** One input row by one weight row. */
    static float tile1x1(float[] x, int x0, float[] w, int w0, int n) {
        int l = S.length();
        int bound = S.loopBound(n);
        FloatVector a = FloatVector.zero(S);
        for (int i = 0; i < bound; i += l) {
            a = FloatVector.fromArray(S, x, x0 + i).fma(FloatVector.fromArray(S, w, w0 + i), a);
        }
        float s = laneSum(a);
        for (int i = bound; i < n; i++) {
            s += x[x0 + i] * w[w0 + i];
        }
        return s;
    }

    private static void finish4(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3, float[] x, int x0,
                                float[] w, int w0, int ws, int bound, int n, float[] out, int o0) {
        tail4(laneSum(a0), laneSum(a1), laneSum(a2), laneSum(a3), x, x0, w, w0, ws, bound, n, out, o0);
    }

    /** {@link #finish4} of the four accumulators stored at acc[a0 + j·L]. */
    private static void finish4(float[] acc, int a0, float[] x, int x0, float[] w, int w0, int ws, int bound, int n,
                                float[] out, int o0) {
        int l = S.length();
        tail4(laneSumAt(acc, a0), laneSumAt(acc, a0 + l), laneSumAt(acc, a0 + 2 * l), laneSumAt(acc, a0 + 3 * l),
                x, x0, w, w0, ws, bound, n, out, o0);
    }

    /** Lane sums s0..s3 plus the scalar tails of weight rows w0 + j·ws, in order, into out[o0 + j]. */
    private static void tail4(float s0, float s1, float s2, float s3, float[] x, int x0, float[] w, int w0, int ws,
                              int bound, int n, float[] out, int o0) {
        for (int i = bound; i < n; i++) {
            float xi = x[x0 + i];
            s0 += xi * w[w0 + i];
            s1 += xi * w[w0 + ws + i];
            s2 += xi * w[w0 + 2 * ws + i];
            s3 += xi * w[w0 + 3 * ws + i];
        }
        out[o0] = s0;
        out[o0 + 1] = s1;
        out[o0 + 2] = s2;
        out[o0 + 3] = s3;
    }

    /**
     * One input row by four BF16 weight rows staged in a heap array (rows at w0 + j·ws, raw bits), widened in
     * registers: the decode path. Sums exactly as {@link #tile1x4} would over the widened rows ({@code x} and the
     * rows in pair order). One method per 16-bit format, the widening written out: with the format a parameter, C2
     * compiled both widenings into the loop, hit its node-count cutoff and left the lane reinterpretation as a call
     * (boxed vectors each step: the two-row tile ran 6x slower than with buffer loads).
     */
    static void tile1x4Bf16(float[] x, int x0, short[] w, int w0, int ws, int n, float[] out, int o0, float[] acc) {
        int l = S.length();
        int bound = S.loopBound(n);
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int w1 = w0 + ws, w2 = w1 + ws, w3 = w2 + ws;
        int i = 0;
        for (; i + 2 * l <= bound; i += 2 * l) { // x in pair order: its evens, then its odds
            FloatVector xe = FloatVector.fromArray(S, x, x0 + i);
            FloatVector xo = FloatVector.fromArray(S, x, x0 + i + l);
            IntVector v0 = pairs(w, w0 + i);
            IntVector v1 = pairs(w, w1 + i);
            IntVector v2 = pairs(w, w2 + i);
            IntVector v3 = pairs(w, w3 + i);
            a0 = xe.fma(v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a0);
            a1 = xe.fma(v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a1);
            a2 = xe.fma(v2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a2);
            a3 = xe.fma(v3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a3);
            a0 = xo.fma(v0.and(0xffff0000).reinterpretAsFloats(), a0);
            a1 = xo.fma(v1.and(0xffff0000).reinterpretAsFloats(), a1);
            a2 = xo.fma(v2.and(0xffff0000).reinterpretAsFloats(), a2);
            a3 = xo.fma(v3.and(0xffff0000).reinterpretAsFloats(), a3);
        }
        if (i < bound) { // one natural-order chunk left
            FloatVector xv = FloatVector.fromArray(S, x, x0 + i);
            a0 = xv.fma(half(w, w0 + i, true), a0);
            a1 = xv.fma(half(w, w1 + i, true), a1);
            a2 = xv.fma(half(w, w2 + i, true), a2);
            a3 = xv.fma(half(w, w3 + i, true), a3);
        }
        storeAcc4(a0, a1, a2, a3, acc);
        finishAcc4(acc, x, x0, w, w0, ws, true, bound, n, out, o0);
    }

    /** {@link #tile1x4Bf16} for F16 weights. */
    static void tile1x4F16(float[] x, int x0, short[] w, int w0, int ws, int n, float[] out, int o0, float[] acc) {
        int l = S.length();
        int bound = S.loopBound(n);
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int w1 = w0 + ws, w2 = w1 + ws, w3 = w2 + ws;
        int i = 0;
        for (; i + 2 * l <= bound; i += 2 * l) { // x in pair order: its evens, then its odds
            FloatVector xe = FloatVector.fromArray(S, x, x0 + i);
            FloatVector xo = FloatVector.fromArray(S, x, x0 + i + l);
            IntVector v0 = pairs(w, w0 + i);
            IntVector v1 = pairs(w, w1 + i);
            IntVector v2 = pairs(w, w2 + i);
            IntVector v3 = pairs(w, w3 + i);
            a0 = xe.fma(evens(v0, false), a0);
            a1 = xe.fma(evens(v1, false), a1);
            a2 = xe.fma(evens(v2, false), a2);
            a3 = xe.fma(evens(v3, false), a3);
            a0 = xo.fma(odds(v0, false), a0);
            a1 = xo.fma(odds(v1, false), a1);
            a2 = xo.fma(odds(v2, false), a2);
            a3 = xo.fma(odds(v3, false), a3);
        }
        if (i < bound) { // one natural-order chunk left
            FloatVector xv = FloatVector.fromArray(S, x, x0 + i);
            a0 = xv.fma(half(w, w0 + i, false), a0);
            a1 = xv.fma(half(w, w1 + i, false), a1);
            a2 = xv.fma(half(w, w2 + i, false), a2);
            a3 = xv.fma(half(w, w3 + i, false), a3);
        }
        storeAcc4(a0, a1, a2, a3, acc);
        finishAcc4(acc, x, x0, w, w0, ws, false, bound, n, out, o0);
    }

    /**
     * Two input rows (at x0 and x0 + xs) by four staged BF16 weight rows (at w0 + j·ws), widened in registers:
     * out[o0 + k·os + j]. Each weight vector is loaded once for both rows, so a two-row block reads the weights once;
     * every pair sums exactly as {@link #tile1x4Bf16} would, so a row computes the same bits alone or paired.
     */
    static void tile2x4Bf16(float[] x, int x0, int xs, short[] w, int w0, int ws, int n, float[] out, int o0,
                            int os, float[] acc) {
        int l = S.length();
        int bound = S.loopBound(n);
        int x1 = x0 + xs;
        int w1 = w0 + ws, w2 = w1 + ws, w3 = w2 + ws;
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        int i = 0;
        for (; i + 2 * l <= bound; i += 2 * l) { // x in pair order: evens, then odds; one weight vector live
            FloatVector x0e = FloatVector.fromArray(S, x, x0 + i);
            FloatVector x0o = FloatVector.fromArray(S, x, x0 + i + l);
            FloatVector x1e = FloatVector.fromArray(S, x, x1 + i);
            FloatVector x1o = FloatVector.fromArray(S, x, x1 + i + l);
            IntVector v = pairs(w, w0 + i);
            FloatVector wv = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a00 = x0e.fma(wv, a00);
            a10 = x1e.fma(wv, a10);
            wv = v.and(0xffff0000).reinterpretAsFloats();
            a00 = x0o.fma(wv, a00);
            a10 = x1o.fma(wv, a10);
            v = pairs(w, w1 + i);
            wv = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a01 = x0e.fma(wv, a01);
            a11 = x1e.fma(wv, a11);
            wv = v.and(0xffff0000).reinterpretAsFloats();
            a01 = x0o.fma(wv, a01);
            a11 = x1o.fma(wv, a11);
            v = pairs(w, w2 + i);
            wv = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a02 = x0e.fma(wv, a02);
            a12 = x1e.fma(wv, a12);
            wv = v.and(0xffff0000).reinterpretAsFloats();
            a02 = x0o.fma(wv, a02);
            a12 = x1o.fma(wv, a12);
            v = pairs(w, w3 + i);
            wv = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a03 = x0e.fma(wv, a03);
            a13 = x1e.fma(wv, a13);
            wv = v.and(0xffff0000).reinterpretAsFloats();
            a03 = x0o.fma(wv, a03);
            a13 = x1o.fma(wv, a13);
        }
        if (i < bound) { // one natural-order chunk left
            FloatVector x0v = FloatVector.fromArray(S, x, x0 + i);
            FloatVector x1v = FloatVector.fromArray(S, x, x1 + i);
            FloatVector wv = half(w, w0 + i, true);
            a00 = x0v.fma(wv, a00);
            a10 = x1v.fma(wv, a10);
            wv = half(w, w1 + i, true);
            a01 = x0v.fma(wv, a01);
            a11 = x1v.fma(wv, a11);
            wv = half(w, w2 + i, true);
            a02 = x0v.fma(wv, a02);
            a12 = x1v.fma(wv, a12);
            wv = half(w, w3 + i, true);
            a03 = x0v.fma(wv, a03);
            a13 = x1v.fma(wv, a13);
        }
        // parked: with the lane sums taking vectors, C2 boxed them here (JFR, issue 15)
        a00.intoArray(acc, 0);
        a01.intoArray(acc, l);
        a02.intoArray(acc, 2 * l);
        a03.intoArray(acc, 3 * l);
        a10.intoArray(acc, 4 * l);
        a11.intoArray(acc, 5 * l);
        a12.intoArray(acc, 6 * l);
        a13.intoArray(acc, 7 * l);
        finishHalf4(laneSumAt(acc, 0), laneSumAt(acc, l), laneSumAt(acc, 2 * l), laneSumAt(acc, 3 * l), x, x0, w, w0,
                ws, true, bound, n, out, o0);
        finishHalf4(laneSumAt(acc, 4 * l), laneSumAt(acc, 5 * l), laneSumAt(acc, 6 * l), laneSumAt(acc, 7 * l), x, x1,
                w, w0, ws, true, bound, n, out, o0 + os);
    }

    /** {@link #tile2x4Bf16} for F16 weights (every pair sums as {@link #tile1x4F16}). */
    static void tile2x4F16(float[] x, int x0, int xs, short[] w, int w0, int ws, int n, float[] out, int o0,
                           int os, float[] acc) {
        int l = S.length();
        int bound = S.loopBound(n);
        int x1 = x0 + xs;
        int w1 = w0 + ws, w2 = w1 + ws, w3 = w2 + ws;
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        int i = 0;
        for (; i + 2 * l <= bound; i += 2 * l) { // x in pair order: evens, then odds; one weight vector live
            FloatVector x0e = FloatVector.fromArray(S, x, x0 + i);
            FloatVector x0o = FloatVector.fromArray(S, x, x0 + i + l);
            FloatVector x1e = FloatVector.fromArray(S, x, x1 + i);
            FloatVector x1o = FloatVector.fromArray(S, x, x1 + i + l);
            IntVector v = pairs(w, w0 + i);
            FloatVector wv = evens(v, false);
            a00 = x0e.fma(wv, a00);
            a10 = x1e.fma(wv, a10);
            wv = odds(v, false);
            a00 = x0o.fma(wv, a00);
            a10 = x1o.fma(wv, a10);
            v = pairs(w, w1 + i);
            wv = evens(v, false);
            a01 = x0e.fma(wv, a01);
            a11 = x1e.fma(wv, a11);
            wv = odds(v, false);
            a01 = x0o.fma(wv, a01);
            a11 = x1o.fma(wv, a11);
            v = pairs(w, w2 + i);
            wv = evens(v, false);
            a02 = x0e.fma(wv, a02);
            a12 = x1e.fma(wv, a12);
            wv = odds(v, false);
            a02 = x0o.fma(wv, a02);
            a12 = x1o.fma(wv, a12);
            v = pairs(w, w3 + i);
            wv = evens(v, false);
            a03 = x0e.fma(wv, a03);
            a13 = x1e.fma(wv, a13);
            wv = odds(v, false);
            a03 = x0o.fma(wv, a03);
            a13 = x1o.fma(wv, a13);
        }
        if (i < bound) { // one natural-order chunk left
            FloatVector x0v = FloatVector.fromArray(S, x, x0 + i);
            FloatVector x1v = FloatVector.fromArray(S, x, x1 + i);
            FloatVector wv = half(w, w0 + i, false);
            a00 = x0v.fma(wv, a00);
            a10 = x1v.fma(wv, a10);
            wv = half(w, w1 + i, false);
            a01 = x0v.fma(wv, a01);
            a11 = x1v.fma(wv, a11);
            wv = half(w, w2 + i, false);
            a02 = x0v.fma(wv, a02);
            a12 = x1v.fma(wv, a12);
            wv = half(w, w3 + i, false);
            a03 = x0v.fma(wv, a03);
            a13 = x1v.fma(wv, a13);
        }
        // parked: with the lane sums taking vectors, C2 boxed them here (JFR, issue 15)
        a00.intoArray(acc, 0);
        a01.intoArray(acc, l);
        a02.intoArray(acc, 2 * l);
        a03.intoArray(acc, 3 * l);
        a10.intoArray(acc, 4 * l);
        a11.intoArray(acc, 5 * l);
        a12.intoArray(acc, 6 * l);
        a13.intoArray(acc, 7 * l);
        finishHalf4(laneSumAt(acc, 0), laneSumAt(acc, l), laneSumAt(acc, 2 * l), laneSumAt(acc, 3 * l), x, x0, w, w0,
                ws, false, bound, n, out, o0);
        finishHalf4(laneSumAt(acc, 4 * l), laneSumAt(acc, 5 * l), laneSumAt(acc, 6 * l), laneSumAt(acc, 7 * l), x, x1,
                w, w0, ws, false, bound, n, out, o0 + os);
    }

    /**
     * Three input rows (at x0, x0 + xs, x0 + 2·xs, in pair order) by four staged BF16 weight rows (at w0 + j·ws), as
     * {@link #tile2x4Bf16}: for 32 vector registers (twelve accumulators, six input vectors), where a 9-row block
     * then widens each weight vector three times rather than five. The widening is written out (a shift and a mask)
     * rather than called: a first version calling {@code evens}/{@code odds} ran at half the speed of the two-row
     * tiles (as when C2 boxes vectors). Every pair sums as {@link #tile1x4Bf16}.
     */
    static void tile3x4Bf16(float[] x, int x0, int xs, short[] w, int w0, int ws, int n, float[] out, int o0,
                            int os, float[] acc) {
        int l = S.length();
        int bound = S.loopBound(n);
        int x1 = x0 + xs;
        int x2 = x1 + xs;
        int w1 = w0 + ws, w2 = w1 + ws, w3 = w2 + ws;
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        int i = 0;
        for (; i + 2 * l <= bound; i += 2 * l) { // x in pair order: evens, then odds
            FloatVector x0e = FloatVector.fromArray(S, x, x0 + i);
            FloatVector x1e = FloatVector.fromArray(S, x, x1 + i);
            FloatVector x2e = FloatVector.fromArray(S, x, x2 + i);
            FloatVector x0o = FloatVector.fromArray(S, x, x0 + i + l);
            FloatVector x1o = FloatVector.fromArray(S, x, x1 + i + l);
            FloatVector x2o = FloatVector.fromArray(S, x, x2 + i + l);
            IntVector v = pairs(w, w0 + i);
            FloatVector wv = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a00 = x0e.fma(wv, a00);
            a10 = x1e.fma(wv, a10);
            a20 = x2e.fma(wv, a20);
            wv = v.and(0xffff0000).reinterpretAsFloats();
            a00 = x0o.fma(wv, a00);
            a10 = x1o.fma(wv, a10);
            a20 = x2o.fma(wv, a20);
            v = pairs(w, w1 + i);
            wv = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a01 = x0e.fma(wv, a01);
            a11 = x1e.fma(wv, a11);
            a21 = x2e.fma(wv, a21);
            wv = v.and(0xffff0000).reinterpretAsFloats();
            a01 = x0o.fma(wv, a01);
            a11 = x1o.fma(wv, a11);
            a21 = x2o.fma(wv, a21);
            v = pairs(w, w2 + i);
            wv = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a02 = x0e.fma(wv, a02);
            a12 = x1e.fma(wv, a12);
            a22 = x2e.fma(wv, a22);
            wv = v.and(0xffff0000).reinterpretAsFloats();
            a02 = x0o.fma(wv, a02);
            a12 = x1o.fma(wv, a12);
            a22 = x2o.fma(wv, a22);
            v = pairs(w, w3 + i);
            wv = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a03 = x0e.fma(wv, a03);
            a13 = x1e.fma(wv, a13);
            a23 = x2e.fma(wv, a23);
            wv = v.and(0xffff0000).reinterpretAsFloats();
            a03 = x0o.fma(wv, a03);
            a13 = x1o.fma(wv, a13);
            a23 = x2o.fma(wv, a23);
        }
        if (i < bound) { // one natural-order chunk left
            FloatVector x0v = FloatVector.fromArray(S, x, x0 + i);
            FloatVector x1v = FloatVector.fromArray(S, x, x1 + i);
            FloatVector x2v = FloatVector.fromArray(S, x, x2 + i);
            FloatVector wv = toInts(ShortVector.fromArray(H, w, w0 + i)).lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats();
            a00 = x0v.fma(wv, a00);
            a10 = x1v.fma(wv, a10);
            a20 = x2v.fma(wv, a20);
            wv = toInts(ShortVector.fromArray(H, w, w1 + i)).lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats();
            a01 = x0v.fma(wv, a01);
            a11 = x1v.fma(wv, a11);
            a21 = x2v.fma(wv, a21);
            wv = toInts(ShortVector.fromArray(H, w, w2 + i)).lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats();
            a02 = x0v.fma(wv, a02);
            a12 = x1v.fma(wv, a12);
            a22 = x2v.fma(wv, a22);
            wv = toInts(ShortVector.fromArray(H, w, w3 + i)).lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats();
            a03 = x0v.fma(wv, a03);
            a13 = x1v.fma(wv, a13);
            a23 = x2v.fma(wv, a23);
        }
        // parked: with the lane sums taking vectors, C2 boxed them here (JFR, issue 15)
        a00.intoArray(acc, 0);
        a01.intoArray(acc, l);
        a02.intoArray(acc, 2 * l);
        a03.intoArray(acc, 3 * l);
        a10.intoArray(acc, 4 * l);
        a11.intoArray(acc, 5 * l);
        a12.intoArray(acc, 6 * l);
        a13.intoArray(acc, 7 * l);
        a20.intoArray(acc, 8 * l);
        a21.intoArray(acc, 9 * l);
        a22.intoArray(acc, 10 * l);
        a23.intoArray(acc, 11 * l);
        finishHalf4(laneSumAt(acc, 0), laneSumAt(acc, l), laneSumAt(acc, 2 * l), laneSumAt(acc, 3 * l), x, x0, w, w0,
                ws, true, bound, n, out, o0);
        finishHalf4(laneSumAt(acc, 4 * l), laneSumAt(acc, 5 * l), laneSumAt(acc, 6 * l), laneSumAt(acc, 7 * l), x, x1,
                w, w0, ws, true, bound, n, out, o0 + os);
        finishHalf4(laneSumAt(acc, 8 * l), laneSumAt(acc, 9 * l), laneSumAt(acc, 10 * l), laneSumAt(acc, 11 * l), x,
                x2, w, w0, ws, true, bound, n, out, o0 + 2 * os);
    }

    /**
     * The scalar tail over staged 16-bit elements added to lane-reduced sums: {@link #finish4} for 16-bit weights.
     * It takes floats, not vectors: in the two-row kernels C2 stops inlining at this call, and vectors passed to a
     * call that is not inlined are boxed on every step of the loop (300 MB a call).
     */
    /**
     * The one-row tiles' accumulators parked in {@code acc[j·L]}: with the lane sums in the tile itself, C2 reached
     * its node cutoff compiling it, called {@link #laneSum} out of line and boxed the four vectors every call (the
     * heap BF16 decode at 76-81 against 63-70 ms in place; docs/BENCHMARKS.md, issue 15). Same lanes, same sums.
     */
    private static void storeAcc4(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3, float[] acc) {
        int l = S.length();
        a0.intoArray(acc, 0);
        a1.intoArray(acc, l);
        a2.intoArray(acc, 2 * l);
        a3.intoArray(acc, 3 * l);
    }

    /** {@link #finishHalf4} of the accumulators parked by {@link #storeAcc4}. */
    private static void finishAcc4(float[] acc, float[] x, int x0, short[] w, int w0, int ws, boolean brain, int bound,
                                   int n, float[] out, int o0) {
        int l = S.length();
        finishHalf4(laneSumAt(acc, 0), laneSumAt(acc, l), laneSumAt(acc, 2 * l), laneSumAt(acc, 3 * l), x, x0, w,
                w0, ws, brain, bound, n, out, o0);
    }

    private static void finishHalf4(float s0, float s1, float s2, float s3, float[] x, int x0, short[] w, int w0,
                                    int ws, boolean brain, int bound, int n, float[] out, int o0) {
        for (int i = bound; i < n; i++) {
            float xi = x[x0 + i];
            s0 += xi * element(w[w0 + i], brain);
            s1 += xi * element(w[w0 + ws + i], brain);
            s2 += xi * element(w[w0 + 2 * ws + i], brain);
            s3 += xi * element(w[w0 + 3 * ws + i], brain);
        }
        out[o0] = s0;
        out[o0 + 1] = s1;
        out[o0 + 2] = s2;
        out[o0 + 3] = s3;
    }

    /** A vector of 16-bit pairs from {@code w[i]}: element 2k in the low half of lane k (little-endian lanes). */
    private static IntVector pairs(short[] w, int i) {
        return ShortVector.fromArray(P, w, i).reinterpretAsInts();
    }

    /** One L-chunk of 16-bit elements in natural order (the pair-order tail), widened. */
    private static FloatVector half(short[] w, int i, boolean brain) {
        IntVector bits = toInts(ShortVector.fromArray(H, w, i));
        return brain ? bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats() : f16(bits.and(0xffff));
    }

    private static float element(short bits, boolean brain) {
        return brain ? DType.bf16ToFloat(bits) : DType.f16ToFloat(bits);
    }

    // Weights read in place from a little-endian buffer with the Vector API's buffer loads (JDK 17 and 18 only: JDK 19
    // replaced them by memory segments). The decode path on JDK 17, where they beat the staged kernels above by ~10%
    // at one row (docs/BENCHMARKS.md, issue 15); CpuBackend uses them only where bufferKernelsAvailable().

    /**
     * One input row by four weight rows read straight from a little-endian F32/BF16/F16 buffer (starting at element
     * indices e0..e3), widened in registers: the decode path, with no copy of the weights. Sums exactly as
     * {@link #tile1x4} would over the widened rows (16-bit: {@code x} and the rows in pair order).
     */
    static void tile1x4(float[] x, int x0, ByteBuffer w, DType dtype, int e0, int e1, int e2, int e3, int n,
                        float[] out, int o0, float[] acc) {
        int l = S.length();
        int bound = S.loopBound(n);
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        if (dtype == DType.F32) {
            int b0 = e0 * 4, b1 = e1 * 4, b2 = e2 * 4, b3 = e3 * 4;
            for (int i = 0; i < bound; i += l) {
                FloatVector xv = FloatVector.fromArray(S, x, x0 + i);
                int b = i * 4;
                a0 = xv.fma(FloatVector.fromByteBuffer(S, w, b0 + b, LE), a0);
                a1 = xv.fma(FloatVector.fromByteBuffer(S, w, b1 + b, LE), a1);
                a2 = xv.fma(FloatVector.fromByteBuffer(S, w, b2 + b, LE), a2);
                a3 = xv.fma(FloatVector.fromByteBuffer(S, w, b3 + b, LE), a3);
            }
        } else {
            boolean brain = dtype == DType.BF16;
            int b0 = e0 * 2, b1 = e1 * 2, b2 = e2 * 2, b3 = e3 * 2;
            int i = 0;
            for (; i + 2 * l <= bound; i += 2 * l) { // x in pair order: its evens, then its odds
                FloatVector xe = FloatVector.fromArray(S, x, x0 + i);
                FloatVector xo = FloatVector.fromArray(S, x, x0 + i + l);
                int b = i * 2;
                IntVector v0 = IntVector.fromByteBuffer(I, w, b0 + b, LE);
                IntVector v1 = IntVector.fromByteBuffer(I, w, b1 + b, LE);
                IntVector v2 = IntVector.fromByteBuffer(I, w, b2 + b, LE);
                IntVector v3 = IntVector.fromByteBuffer(I, w, b3 + b, LE);
                a0 = xe.fma(evens(v0, brain), a0);
                a1 = xe.fma(evens(v1, brain), a1);
                a2 = xe.fma(evens(v2, brain), a2);
                a3 = xe.fma(evens(v3, brain), a3);
                a0 = xo.fma(odds(v0, brain), a0);
                a1 = xo.fma(odds(v1, brain), a1);
                a2 = xo.fma(odds(v2, brain), a2);
                a3 = xo.fma(odds(v3, brain), a3);
            }
            if (i < bound) { // one natural-order chunk left
                FloatVector xv = FloatVector.fromArray(S, x, x0 + i);
                int b = i * 2;
                a0 = xv.fma(half(w, b0 + b, brain), a0);
                a1 = xv.fma(half(w, b1 + b, brain), a1);
                a2 = xv.fma(half(w, b2 + b, brain), a2);
                a3 = xv.fma(half(w, b3 + b, brain), a3);
            }
        }
        // parked: with the lane sums taking vectors, C2 boxed them here (JFR, issue 15)
        a0.intoArray(acc, 0);
        a1.intoArray(acc, l);
        a2.intoArray(acc, 2 * l);
        a3.intoArray(acc, 3 * l);
        finishBuffer4(laneSumAt(acc, 0), laneSumAt(acc, l), laneSumAt(acc, 2 * l), laneSumAt(acc, 3 * l), x, x0, w,
                dtype, e0, e1, e2, e3, bound, n, out, o0);
    }

    /**
     * One input row by one BF16 weight row read in place (element e0): out[o0], summed exactly as {@link #tile1x4}
     * sums each of its rows (see {@code CpuBackend.STREAMED_ROW} for when one row at a time reads faster).
     */
    static void tile1x1Bf16(float[] x, int x0, ByteBuffer w, int e0, int n, float[] out, int o0, float[] acc) {
        int l = S.length();
        int bound = S.loopBound(n);
        FloatVector a0 = FloatVector.zero(S);
        int b0 = e0 * 2;
        int i = 0;
        for (; i + 2 * l <= bound; i += 2 * l) {
            IntVector v0 = IntVector.fromByteBuffer(I, w, b0 + i * 2, LE);
            a0 = FloatVector.fromArray(S, x, x0 + i).fma(v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a0);
            a0 = FloatVector.fromArray(S, x, x0 + i + l).fma(v0.and(0xffff0000).reinterpretAsFloats(), a0);
        }
        if (i < bound) {
            a0 = FloatVector.fromArray(S, x, x0 + i).fma(half(w, b0 + i * 2, true), a0);
        }
        a0.intoArray(acc, 0);
        float s0 = laneSumAt(acc, 0);
        for (i = bound; i < n; i++) {
            s0 += x[x0 + i] * element(w, DType.BF16, e0 + i);
        }
        out[o0] = s0;
    }

    /**
     * {@link #tile1x1Bf16} for F16 weights. The generic {@link #tile1x4} ran F16 8x slower than BF16 (one-row decode
     * of the dim-2048 model 400-460 against 52 ms): C2 compiled its F32, BF16 and F16 loops into one method, hit its
     * node-count cutoff and left the lane reinterpretation of the F16 widening to the Vector API's Java fallback
     * (JFR: {@code convert0} under {@code reinterpretAsFloats}).
     */
    static void tile1x1F16(float[] x, int x0, ByteBuffer w, int e0, int n, float[] out, int o0, float[] acc) {
        int l = S.length();
        int bound = S.loopBound(n);
        FloatVector a0 = FloatVector.zero(S);
        int b0 = e0 * 2;
        int i = 0;
        for (; i + 2 * l <= bound; i += 2 * l) {
            IntVector v0 = IntVector.fromByteBuffer(I, w, b0 + i * 2, LE);
            a0 = FloatVector.fromArray(S, x, x0 + i).fma(f16(v0.and(0xffff)), a0);
            a0 = FloatVector.fromArray(S, x, x0 + i + l).fma(f16(v0.lanewise(VectorOperators.LSHR, 16)), a0);
        }
        if (i < bound) {
            a0 = FloatVector.fromArray(S, x, x0 + i).fma(half(w, b0 + i * 2, false), a0);
        }
        a0.intoArray(acc, 0);
        float s0 = laneSumAt(acc, 0);
        for (i = bound; i < n; i++) {
            s0 += x[x0 + i] * element(w, DType.F16, e0 + i);
        }
        out[o0] = s0;
    }

    /**
     * One input row by eight BF16 weight rows read straight from a little-endian buffer (elements e[0..7] from
     * {@code ej}): the decode path for long BF16 rows in place on AVX-512, each row summed exactly as
     * {@link #tile1x4} sums it (one accumulator, pair order, then {@link #laneSumAt} and the scalar tail). Eight rows,
     * not four (or sixteen), because a thread reads long rows faster the more rows it has in flight, up to a
     * point: a harness reading a mapped BF16 file with this loop on one thread (AMD EPYC, AVX-512, 16 lanes) read
     * 15-16 GB/s with four rows at once, 19-20 with eight, 18-19 with sixteen; a plain sequential sum 26
     * (docs/BENCHMARKS.md, issue 15). The accumulators leave through {@code acc} (8 vectors).
     */
    static void tile1x8Bf16(float[] x, int x0, ByteBuffer w, int[] ej, int n, float[] out, int o0, float[] acc) {
        int l = S.length();
        int bound = S.loopBound(n);
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        int b0 = ej[0] * 2, b1 = ej[1] * 2, b2 = ej[2] * 2, b3 = ej[3] * 2;
        int b4 = ej[4] * 2, b5 = ej[5] * 2, b6 = ej[6] * 2, b7 = ej[7] * 2;
        int i = 0;
        for (; i + 2 * l <= bound; i += 2 * l) { // x in pair order: its evens, then its odds
            FloatVector xe = FloatVector.fromArray(S, x, x0 + i);
            FloatVector xo = FloatVector.fromArray(S, x, x0 + i + l);
            int b = i * 2;
            IntVector v0 = IntVector.fromByteBuffer(I, w, b0 + b, LE);
            IntVector v1 = IntVector.fromByteBuffer(I, w, b1 + b, LE);
            IntVector v2 = IntVector.fromByteBuffer(I, w, b2 + b, LE);
            IntVector v3 = IntVector.fromByteBuffer(I, w, b3 + b, LE);
            IntVector v4 = IntVector.fromByteBuffer(I, w, b4 + b, LE);
            IntVector v5 = IntVector.fromByteBuffer(I, w, b5 + b, LE);
            IntVector v6 = IntVector.fromByteBuffer(I, w, b6 + b, LE);
            IntVector v7 = IntVector.fromByteBuffer(I, w, b7 + b, LE);
            a0 = xe.fma(v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a0);
            a1 = xe.fma(v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a1);
            a2 = xe.fma(v2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a2);
            a3 = xe.fma(v3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a3);
            a4 = xe.fma(v4.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a4);
            a5 = xe.fma(v5.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a5);
            a6 = xe.fma(v6.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a6);
            a7 = xe.fma(v7.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a7);
            a0 = xo.fma(v0.and(0xffff0000).reinterpretAsFloats(), a0);
            a1 = xo.fma(v1.and(0xffff0000).reinterpretAsFloats(), a1);
            a2 = xo.fma(v2.and(0xffff0000).reinterpretAsFloats(), a2);
            a3 = xo.fma(v3.and(0xffff0000).reinterpretAsFloats(), a3);
            a4 = xo.fma(v4.and(0xffff0000).reinterpretAsFloats(), a4);
            a5 = xo.fma(v5.and(0xffff0000).reinterpretAsFloats(), a5);
            a6 = xo.fma(v6.and(0xffff0000).reinterpretAsFloats(), a6);
            a7 = xo.fma(v7.and(0xffff0000).reinterpretAsFloats(), a7);
        }
        if (i < bound) { // one natural-order chunk left
            FloatVector xv = FloatVector.fromArray(S, x, x0 + i);
            int b = i * 2;
            a0 = xv.fma(half(w, b0 + b, true), a0);
            a1 = xv.fma(half(w, b1 + b, true), a1);
            a2 = xv.fma(half(w, b2 + b, true), a2);
            a3 = xv.fma(half(w, b3 + b, true), a3);
            a4 = xv.fma(half(w, b4 + b, true), a4);
            a5 = xv.fma(half(w, b5 + b, true), a5);
            a6 = xv.fma(half(w, b6 + b, true), a6);
            a7 = xv.fma(half(w, b7 + b, true), a7);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, l);
        a2.intoArray(acc, 2 * l);
        a3.intoArray(acc, 3 * l);
        a4.intoArray(acc, 4 * l);
        a5.intoArray(acc, 5 * l);
        a6.intoArray(acc, 6 * l);
        a7.intoArray(acc, 7 * l);
        finishBuffer4(laneSumAt(acc, 0), laneSumAt(acc, l), laneSumAt(acc, 2 * l), laneSumAt(acc, 3 * l), x, x0, w,
                DType.BF16, ej[0], ej[1], ej[2], ej[3], bound, n, out, o0);
        finishBuffer4(laneSumAt(acc, 4 * l), laneSumAt(acc, 5 * l), laneSumAt(acc, 6 * l), laneSumAt(acc, 7 * l), x,
                x0, w, DType.BF16, ej[4], ej[5], ej[6], ej[7], bound, n, out, o0 + 4);
    }

    /**
     * Two input rows (at x0 and x0 + xs) by four weight rows read straight from a little-endian F32/BF16/F16 buffer
     * (elements e0..e3), widened in registers: out[o0 + k·os + j]. Each weight vector is loaded once for both rows,
     * so a two-row block reads the weights once; every pair sums exactly as {@link #tile1x4} would (16-bit: pair
     * order), so a row computes the same bits alone or paired.
     */
    static void tile2x4(float[] x, int x0, int xs, ByteBuffer w, DType dtype, int e0, int e1, int e2, int e3, int n,
                        float[] out, int o0, int os, float[] acc) {
        // one method per element width: with both loops in one, JDK 17's C2 boxed the vectors (300 MB a call)
        if (dtype == DType.F32) {
            tile2x4F32(x, x0, xs, w, e0, e1, e2, e3, n, out, o0, os, acc);
        } else {
            tile2x4Half(x, x0, xs, w, dtype, e0, e1, e2, e3, n, out, o0, os, acc);
        }
    }

    private static void tile2x4F32(float[] x, int x0, int xs, ByteBuffer w, int e0, int e1, int e2, int e3, int n,
                                   float[] out, int o0, int os, float[] acc) {
        int l = S.length();
        int step = step();
        int bound = S.loopBound(n);
        int x1 = x0 + xs;
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        int i = 0;
        int b0 = e0 * 4, b1 = e1 * 4, b2 = e2 * 4, b3 = e3 * 4;
        for (; i < bound; i += step) {
            FloatVector x0v = FloatVector.fromArray(S, x, x0 + i);
            FloatVector x1v = FloatVector.fromArray(S, x, x1 + i);
            int b = i * 4;
            FloatVector wv = FloatVector.fromByteBuffer(S, w, b0 + b, LE);
            a00 = x0v.fma(wv, a00);
            a10 = x1v.fma(wv, a10);
            wv = FloatVector.fromByteBuffer(S, w, b1 + b, LE);
            a01 = x0v.fma(wv, a01);
            a11 = x1v.fma(wv, a11);
            wv = FloatVector.fromByteBuffer(S, w, b2 + b, LE);
            a02 = x0v.fma(wv, a02);
            a12 = x1v.fma(wv, a12);
            wv = FloatVector.fromByteBuffer(S, w, b3 + b, LE);
            a03 = x0v.fma(wv, a03);
            a13 = x1v.fma(wv, a13);
        }
        // parked: with the lane sums taking vectors, C2 boxed them here (JFR, issue 15)
        a00.intoArray(acc, 0);
        a01.intoArray(acc, l);
        a02.intoArray(acc, 2 * l);
        a03.intoArray(acc, 3 * l);
        a10.intoArray(acc, 4 * l);
        a11.intoArray(acc, 5 * l);
        a12.intoArray(acc, 6 * l);
        a13.intoArray(acc, 7 * l);
        finishBuffer4(laneSumAt(acc, 0), laneSumAt(acc, l), laneSumAt(acc, 2 * l), laneSumAt(acc, 3 * l), x, x0, w,
                DType.F32, e0, e1, e2, e3, bound, n, out, o0);
        finishBuffer4(laneSumAt(acc, 4 * l), laneSumAt(acc, 5 * l), laneSumAt(acc, 6 * l), laneSumAt(acc, 7 * l), x,
                x1, w, DType.F32, e0, e1, e2, e3, bound, n, out, o0 + os);
    }

    private static void tile2x4Half(float[] x, int x0, int xs, ByteBuffer w, DType dtype, int e0, int e1, int e2,
                                    int e3, int n, float[] out, int o0, int os, float[] acc) {
        int l = S.length();
        int bound = S.loopBound(n);
        int x1 = x0 + xs;
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        int i = 0;
        boolean brain = dtype == DType.BF16;
        int b0 = e0 * 2, b1 = e1 * 2, b2 = e2 * 2, b3 = e3 * 2;
        for (; i + 2 * l <= bound; i += 2 * l) { // x in pair order: evens, then odds; one weight vector live
            FloatVector x0e = FloatVector.fromArray(S, x, x0 + i);
            FloatVector x0o = FloatVector.fromArray(S, x, x0 + i + l);
            FloatVector x1e = FloatVector.fromArray(S, x, x1 + i);
            FloatVector x1o = FloatVector.fromArray(S, x, x1 + i + l);
            int b = i * 2;
            IntVector v = IntVector.fromByteBuffer(I, w, b0 + b, LE);
            FloatVector wv = evens(v, brain);
            a00 = x0e.fma(wv, a00);
            a10 = x1e.fma(wv, a10);
            wv = odds(v, brain);
            a00 = x0o.fma(wv, a00);
            a10 = x1o.fma(wv, a10);
            v = IntVector.fromByteBuffer(I, w, b1 + b, LE);
            wv = evens(v, brain);
            a01 = x0e.fma(wv, a01);
            a11 = x1e.fma(wv, a11);
            wv = odds(v, brain);
            a01 = x0o.fma(wv, a01);
            a11 = x1o.fma(wv, a11);
            v = IntVector.fromByteBuffer(I, w, b2 + b, LE);
            wv = evens(v, brain);
            a02 = x0e.fma(wv, a02);
            a12 = x1e.fma(wv, a12);
            wv = odds(v, brain);
            a02 = x0o.fma(wv, a02);
            a12 = x1o.fma(wv, a12);
            v = IntVector.fromByteBuffer(I, w, b3 + b, LE);
            wv = evens(v, brain);
            a03 = x0e.fma(wv, a03);
            a13 = x1e.fma(wv, a13);
            wv = odds(v, brain);
            a03 = x0o.fma(wv, a03);
            a13 = x1o.fma(wv, a13);
        }
        if (i < bound) { // one natural-order chunk left
            FloatVector x0v = FloatVector.fromArray(S, x, x0 + i);
            FloatVector x1v = FloatVector.fromArray(S, x, x1 + i);
            int b = i * 2;
            FloatVector wv = half(w, b0 + b, brain);
            a00 = x0v.fma(wv, a00);
            a10 = x1v.fma(wv, a10);
            wv = half(w, b1 + b, brain);
            a01 = x0v.fma(wv, a01);
            a11 = x1v.fma(wv, a11);
            wv = half(w, b2 + b, brain);
            a02 = x0v.fma(wv, a02);
            a12 = x1v.fma(wv, a12);
            wv = half(w, b3 + b, brain);
            a03 = x0v.fma(wv, a03);
            a13 = x1v.fma(wv, a13);
        }
        // parked: with the lane sums taking vectors, C2 boxed them here (JFR, issue 15)
        a00.intoArray(acc, 0);
        a01.intoArray(acc, l);
        a02.intoArray(acc, 2 * l);
        a03.intoArray(acc, 3 * l);
        a10.intoArray(acc, 4 * l);
        a11.intoArray(acc, 5 * l);
        a12.intoArray(acc, 6 * l);
        a13.intoArray(acc, 7 * l);
        finishBuffer4(laneSumAt(acc, 0), laneSumAt(acc, l), laneSumAt(acc, 2 * l), laneSumAt(acc, 3 * l), x, x0, w,
                dtype, e0, e1, e2, e3, bound, n, out, o0);
        finishBuffer4(laneSumAt(acc, 4 * l), laneSumAt(acc, 5 * l), laneSumAt(acc, 6 * l), laneSumAt(acc, 7 * l), x,
                x1, w, dtype, e0, e1, e2, e3, bound, n, out, o0 + os);
    }

    /**
     * Three input rows (at x0, x0 + xs, x0 + 2·xs, in pair order) by four BF16 weight rows read straight from a
     * buffer (elements e0..e3), as {@link #tile2x4}: for 32 vector registers (twelve accumulators, six input vectors),
     * where a 9-row block then widens each weight vector three times rather than five. The widening is written out
     * (a shift and a mask) rather than called: a first version calling {@code evens}/{@code odds} ran at half the
     * speed of the two-row tiles (as when C2 boxes vectors). Every pair sums as {@link #tile1x4}.
     */
    static void tile3x4Bf16(float[] x, int x0, int xs, ByteBuffer w, int e0, int e1, int e2, int e3, int n,
                            float[] out, int o0, int os, float[] acc) {
        int l = S.length();
        int bound = S.loopBound(n);
        int x1 = x0 + xs;
        int x2 = x1 + xs;
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        int i = 0;
        int b0 = e0 * 2, b1 = e1 * 2, b2 = e2 * 2, b3 = e3 * 2;
        for (; i + 2 * l <= bound; i += 2 * l) { // x in pair order: evens, then odds
            FloatVector x0e = FloatVector.fromArray(S, x, x0 + i);
            FloatVector x1e = FloatVector.fromArray(S, x, x1 + i);
            FloatVector x2e = FloatVector.fromArray(S, x, x2 + i);
            FloatVector x0o = FloatVector.fromArray(S, x, x0 + i + l);
            FloatVector x1o = FloatVector.fromArray(S, x, x1 + i + l);
            FloatVector x2o = FloatVector.fromArray(S, x, x2 + i + l);
            int b = i * 2;
            IntVector v = IntVector.fromByteBuffer(I, w, b0 + b, LE);
            FloatVector wv = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a00 = x0e.fma(wv, a00);
            a10 = x1e.fma(wv, a10);
            a20 = x2e.fma(wv, a20);
            wv = v.and(0xffff0000).reinterpretAsFloats();
            a00 = x0o.fma(wv, a00);
            a10 = x1o.fma(wv, a10);
            a20 = x2o.fma(wv, a20);
            v = IntVector.fromByteBuffer(I, w, b1 + b, LE);
            wv = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a01 = x0e.fma(wv, a01);
            a11 = x1e.fma(wv, a11);
            a21 = x2e.fma(wv, a21);
            wv = v.and(0xffff0000).reinterpretAsFloats();
            a01 = x0o.fma(wv, a01);
            a11 = x1o.fma(wv, a11);
            a21 = x2o.fma(wv, a21);
            v = IntVector.fromByteBuffer(I, w, b2 + b, LE);
            wv = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a02 = x0e.fma(wv, a02);
            a12 = x1e.fma(wv, a12);
            a22 = x2e.fma(wv, a22);
            wv = v.and(0xffff0000).reinterpretAsFloats();
            a02 = x0o.fma(wv, a02);
            a12 = x1o.fma(wv, a12);
            a22 = x2o.fma(wv, a22);
            v = IntVector.fromByteBuffer(I, w, b3 + b, LE);
            wv = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a03 = x0e.fma(wv, a03);
            a13 = x1e.fma(wv, a13);
            a23 = x2e.fma(wv, a23);
            wv = v.and(0xffff0000).reinterpretAsFloats();
            a03 = x0o.fma(wv, a03);
            a13 = x1o.fma(wv, a13);
            a23 = x2o.fma(wv, a23);
        }
        if (i < bound) { // one natural-order chunk left
            FloatVector x0v = FloatVector.fromArray(S, x, x0 + i);
            FloatVector x1v = FloatVector.fromArray(S, x, x1 + i);
            FloatVector x2v = FloatVector.fromArray(S, x, x2 + i);
            int b = i * 2;
            FloatVector wv = toInts(ShortVector.fromByteBuffer(H, w, b0 + b, LE)).lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats();
            a00 = x0v.fma(wv, a00);
            a10 = x1v.fma(wv, a10);
            a20 = x2v.fma(wv, a20);
            wv = toInts(ShortVector.fromByteBuffer(H, w, b1 + b, LE)).lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats();
            a01 = x0v.fma(wv, a01);
            a11 = x1v.fma(wv, a11);
            a21 = x2v.fma(wv, a21);
            wv = toInts(ShortVector.fromByteBuffer(H, w, b2 + b, LE)).lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats();
            a02 = x0v.fma(wv, a02);
            a12 = x1v.fma(wv, a12);
            a22 = x2v.fma(wv, a22);
            wv = toInts(ShortVector.fromByteBuffer(H, w, b3 + b, LE)).lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats();
            a03 = x0v.fma(wv, a03);
            a13 = x1v.fma(wv, a13);
            a23 = x2v.fma(wv, a23);
        }
        // parked: with the lane sums taking vectors, C2 boxed them here (JFR, issue 15)
        a00.intoArray(acc, 0);
        a01.intoArray(acc, l);
        a02.intoArray(acc, 2 * l);
        a03.intoArray(acc, 3 * l);
        a10.intoArray(acc, 4 * l);
        a11.intoArray(acc, 5 * l);
        a12.intoArray(acc, 6 * l);
        a13.intoArray(acc, 7 * l);
        a20.intoArray(acc, 8 * l);
        a21.intoArray(acc, 9 * l);
        a22.intoArray(acc, 10 * l);
        a23.intoArray(acc, 11 * l);
        finishBuffer4(laneSumAt(acc, 0), laneSumAt(acc, l),
                laneSumAt(acc, 2 * l), laneSumAt(acc, 3 * l), x, x0, w, DType.BF16,
                e0, e1, e2, e3, bound, n, out, o0);
        finishBuffer4(laneSumAt(acc, 4 * l), laneSumAt(acc, 5 * l),
                laneSumAt(acc, 6 * l), laneSumAt(acc, 7 * l), x, x1, w, DType.BF16,
                e0, e1, e2, e3, bound, n, out, o0 + os);
        finishBuffer4(laneSumAt(acc, 8 * l), laneSumAt(acc, 9 * l),
                laneSumAt(acc, 10 * l), laneSumAt(acc, 11 * l), x, x2, w, DType.BF16,
                e0, e1, e2, e3, bound, n, out, o0 + 2 * os);
    }

    /**
     * The scalar tail over buffer elements added to lane-reduced sums: {@link #finish4} for weights read from a
     * buffer. It takes floats, not vectors: in the two-row kernels C2 stops inlining at this call, and vectors passed
     * to a call that is not inlined are boxed on every step of the loop (300 MB a call).
     */
    private static void finishBuffer4(float s0, float s1, float s2, float s3, float[] x, int x0, ByteBuffer w,
                                      DType dtype, int e0, int e1, int e2, int e3, int bound, int n, float[] out,
                                      int o0) {
        for (int i = bound; i < n; i++) {
            float xi = x[x0 + i];
            s0 += xi * element(w, dtype, e0 + i);
            s1 += xi * element(w, dtype, e1 + i);
            s2 += xi * element(w, dtype, e2 + i);
            s3 += xi * element(w, dtype, e3 + i);
        }
        out[o0] = s0;
        out[o0 + 1] = s1;
        out[o0 + 2] = s2;
        out[o0 + 3] = s3;
    }

    /**
     * A weight panel (see above) from four rows of {@code n} elements of a little-endian F32/BF16/F16 buffer, starting
     * at elements e0..e3 (16-bit rows in pair order). The four rows are read in step, as four streams: one row after
     * another read at half the bandwidth of the decode kernels, which read four rows at once.
     */
    static void widenPanel(ByteBuffer src, DType dtype, int e0, int e1, int e2, int e3, float[] panel, int n) {
        int l = S.length();
        int bound = S.loopBound(n);
        int i = 0;
        if (dtype == DType.F32) {
            for (; i < bound; i += l) {
                int q = 4 * i;
                FloatVector.fromByteBuffer(S, src, (e0 + i) * 4, LE).intoArray(panel, q);
                FloatVector.fromByteBuffer(S, src, (e1 + i) * 4, LE).intoArray(panel, q + l);
                FloatVector.fromByteBuffer(S, src, (e2 + i) * 4, LE).intoArray(panel, q + 2 * l);
                FloatVector.fromByteBuffer(S, src, (e3 + i) * 4, LE).intoArray(panel, q + 3 * l);
            }
        } else if (dtype == DType.F16) {
            widenPanelF16(src, e0, e1, e2, e3, panel, n);
        } else {
            boolean brain = true; // F16 took widenPanelF16 above; the loop below is BF16's alone
            int bound2 = n - n % (2 * l);
            for (; i < bound2; i += 2 * l) {
                int q = 4 * i;
                IntVector v0 = IntVector.fromByteBuffer(I, src, (e0 + i) * 2, LE);
                IntVector v1 = IntVector.fromByteBuffer(I, src, (e1 + i) * 2, LE);
                IntVector v2 = IntVector.fromByteBuffer(I, src, (e2 + i) * 2, LE);
                IntVector v3 = IntVector.fromByteBuffer(I, src, (e3 + i) * 2, LE);
                evens(v0, brain).intoArray(panel, q);
                evens(v1, brain).intoArray(panel, q + l);
                evens(v2, brain).intoArray(panel, q + 2 * l);
                evens(v3, brain).intoArray(panel, q + 3 * l);
                odds(v0, brain).intoArray(panel, q + 4 * l);
                odds(v1, brain).intoArray(panel, q + 5 * l);
                odds(v2, brain).intoArray(panel, q + 6 * l);
                odds(v3, brain).intoArray(panel, q + 7 * l);
            }
            if (i < bound) { // one natural-order chunk left
                int q = 4 * i;
                half(src, (e0 + i) * 2, brain).intoArray(panel, q);
                half(src, (e1 + i) * 2, brain).intoArray(panel, q + l);
                half(src, (e2 + i) * 2, brain).intoArray(panel, q + 2 * l);
                half(src, (e3 + i) * 2, brain).intoArray(panel, q + 3 * l);
            }
        }
        int t = n - bound;
        int tail = 4 * bound - bound;
        for (i = bound; i < n; i++) {
            panel[tail + i] = element(src, dtype, e0 + i);
            panel[tail + t + i] = element(src, dtype, e1 + i);
            panel[tail + 2 * t + i] = element(src, dtype, e2 + i);
            panel[tail + 3 * t + i] = element(src, dtype, e3 + i);
        }
    }

    /**
     * The vector part of {@link #widenPanel} for F16, in a method of its own: compiled together with the BF16 loop,
     * the F16 widening fell to the Vector API's Java fallback (C2's node-count cutoff; docs/BENCHMARKS.md, issue 15).
     */
    private static void widenPanelF16(ByteBuffer src, int e0, int e1, int e2, int e3, float[] panel, int n) {
        int l = S.length();
        int bound = S.loopBound(n);
        int bound2 = n - n % (2 * l);
        for (int r = 0; r < 4; r++) { // a row at a time: with the four rows in step, 8 widenings a step, it fell back
            int b = 2 * (r == 0 ? e0 : r == 1 ? e1 : r == 2 ? e2 : e3);
            int i = 0;
            for (; i < bound2; i += 2 * l) {
                IntVector v = IntVector.fromByteBuffer(I, src, b + i * 2, LE);
                f16(v.and(0xffff)).intoArray(panel, 4 * i + r * l);
                f16(v.lanewise(VectorOperators.LSHR, 16)).intoArray(panel, 4 * i + (4 + r) * l);
            }
            if (i < bound) { // one natural-order chunk left
                half(src, b + i * 2, false).intoArray(panel, 4 * i + r * l);
            }
        }
    }

    /** One L-chunk of 16-bit elements in natural order (the pair-order tail), widened. */
    private static FloatVector half(ByteBuffer w, int byteOffset, boolean brain) {
        IntVector bits = toInts(ShortVector.fromByteBuffer(H, w, byteOffset, LE));
        return brain ? bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats() : f16(bits.and(0xffff));
    }

    private static float element(ByteBuffer w, DType dtype, int e) {
        return switch (dtype) {
            case F32 -> w.getFloat(e * 4);
            case BF16 -> DType.bf16ToFloat(w.getShort(e * 2));
            case F16 -> DType.f16ToFloat(w.getShort(e * 2));
        };
    }

    /**
     * Sums {@code floats[from, to)} of a buffer's float view, staged through {@code chunk} (a few KB, stays in L1):
     * a streaming read of memory the way the 16-bit and mapped matmuls read their weights (copied a group at a time
     * into heap scratch, then read from cache). {@code to − from} is a multiple of the chunk's length.
     */
    static float sumFloats(FloatBuffer floats, int from, int to, float[] chunk) {
        float sum = 0f;
        for (int c = from; c < to; c += chunk.length) {
            floats.get(c, chunk, 0, chunk.length);
            sum += sum(chunk); // no vector lives across the copy: C2 would box it at the call
        }
        return sum;
    }

    /** The sum of {@code a} (a multiple of four vectors long), four accumulators. */
    private static float sum(float[] a) {
        return sumRange(a, 0, a.length);
    }

    /** The sum of {@code a[from, to)} (a multiple of four vectors long): the roofline's heap bandwidth pass. */
    static float sumRange(float[] a, int from, int to) {
        int l = S.length();
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int i = from; i + 4 * l <= to; i += 4 * l) {
            a0 = a0.add(FloatVector.fromArray(S, a, i));
            a1 = a1.add(FloatVector.fromArray(S, a, i + l));
            a2 = a2.add(FloatVector.fromArray(S, a, i + 2 * l));
            a3 = a3.add(FloatVector.fromArray(S, a, i + 3 * l));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /** Eight independent FMA chains in registers for {@code iterations} steps; returns 8 × lanes FMAs per step. */
    static float fmaChains(long iterations, float seed) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f);
        FloatVector c = FloatVector.broadcast(S, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(S, seed), a1 = a0.add(1f), a2 = a0.add(2f), a3 = a0.add(3f);
        FloatVector a4 = a0.add(4f), a5 = a0.add(5f), a6 = a0.add(6f), a7 = a0.add(7f);
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
        }
        return a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).reduceLanes(VectorOperators.ADD);
    }

    /**
     * Scores of positions [0, loopBound(n)) (the caller does the tail): per lane the FMA chain over e of
     * {@link Backend#scoresByPosition}, so a lane computes exactly what the scalar tail would.
     */
    static int scoresByPosition(float[] out, int outOff, float[] q, int qOff, float[] kT, int d0, int stride, int hd,
                                int n, float scale) {
        int l = S.length();
        int bound = S.loopBound(n);
        for (int j = 0; j < bound; j += l) {
            FloatVector acc = FloatVector.zero(S);
            for (int e = 0; e < hd; e++) {
                acc = FloatVector.broadcast(S, q[qOff + e]).fma(FloatVector.fromArray(S, kT, (d0 + e) * stride + j), acc);
            }
            acc.mul(scale).intoArray(out, outOff + j);
        }
        return bound;
    }

    /**
     * {@link Backend#weightedValues} for a head of one vector, or of half a vector ({@link #halfLanes()}) in the lower
     * lanes of a full one: per lane the same multiply-then-add sequence as the scalar loop, with the running sum in a
     * register. A zero weight is skipped by a blend, not a branch: with the add under an {@code if}, JDK 17's C2 kept
     * the vector boxed and allocated one per position (330 KB per stories260K token, about a third of its decode
     * time). A half head's loads also read the half vector after it (the caller checks that it lies in {@code v})
     * into the upper lanes, which are thrown away: its sums go to {@code out} through {@code lanes} (a vector of
     * scratch), since C2 boxes narrower species and masked loads and stores here. Before this, heads of 8 on AVX-512
     * ran on the scalar loop, about 45% of a stories260K token.
     */
    static void weightedValues(float[] out, int outOff, float[] weights, int[] cols, int m, float inv, float[] v,
                               int stride, int off, int hd, float[] lanes) {
        FloatVector acc = FloatVector.zero(S);
        for (int j = 0; j < m; j++) {
            float a = weights[j];
            FloatVector sum = acc.add(FloatVector.fromArray(S, v, cols[j] * stride + off).mul(a * inv));
            acc = acc.blend(sum, S.maskAll(a != 0f));
        }
        if (hd == S.length()) {
            acc.intoArray(out, outOff);
        } else {
            acc.intoArray(lanes, 0);
            System.arraycopy(lanes, 0, out, outOff, hd);
        }
    }

    /** Half the lanes: the smaller head {@link #weightedValues} takes. */
    static int halfLanes() {
        return S.length() / 2;
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

    static float max(float[] a, int off, int n) {
        int i = 0;
        int bound = S.loopBound(n);
        float max = Float.NEGATIVE_INFINITY;
        if (bound > 0) {
            FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += S.length()) {
                acc = acc.max(FloatVector.fromArray(S, a, off + i));
            }
            max = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) {
            if (a[off + i] > max) {
                max = a[off + i];
            }
        }
        return max;
    }

    static float expShiftSum(float[] a, int off, int n, float shift) {
        int i = 0;
        int bound = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        for (; i < bound; i += S.length()) {
            FloatVector e = exp(FloatVector.fromArray(S, a, off + i).sub(shift));
            e.intoArray(a, off + i);
            acc = acc.add(e);
        }
        float sum = inOrder(acc);
        for (; i < n; i++) {
            float e = exp(a[off + i] - shift);
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
            FloatVector sig = exp(x.neg()).add(1f);
            x.div(sig).mul(FloatVector.fromArray(S, g, off + i)).intoArray(h, off + i);
        }
        for (; i < n; i++) {
            float x = h[off + i];
            h[off + i] = x / (1.0f + exp(-x)) * g[off + i];
        }
    }

    // e^x in float, the same bits on every JIT tier and JDK: the Vector API's EXP is SVML in C2-compiled code and
    // Math.exp per lane in the interpreter and C1, which differ in the last bit (1 of 64 softmax weights in a
    // one-process probe, docs/BENCHMARKS.md, issue 15), so a forward's bits depended on how warm the JIT was. This
    // uses only operations Java defines exactly (min/max, fused multiply-add, adds, integer bits): x = n·ln 2 + r,
    // |r| ≤ ln 2 / 2, e^r by Cephes' expf polynomial (about 1 ulp), times 2^n built in the exponent bits. Arguments are
    // clamped to [-87.3, 88]: e^x stays normal and finite (softmax arguments are ≤ 0, SiLU's reach -88 only where its
    // result rounds to zero or x anyway). The vector and scalar forms are the same operations lane for lane.
    private static final float EXP_LO = -87.3f;
    private static final float EXP_HI = 88f;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float ROUNDER = 12582912f; // 1.5·2^23: adding it rounds to an integer in the low bits
    private static final int ROUNDER_BITS = 0x4B400000;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    private static final FloatVector NEG_LN2_HI_V = FloatVector.broadcast(S, -LN2_HI);
    private static final FloatVector NEG_LN2_LO_V = FloatVector.broadcast(S, -LN2_LO);
    private static final FloatVector P2_V = FloatVector.broadcast(S, P2);
    private static final FloatVector P3_V = FloatVector.broadcast(S, P3);
    private static final FloatVector P4_V = FloatVector.broadcast(S, P4);
    private static final FloatVector P5_V = FloatVector.broadcast(S, P5);

    static FloatVector exp(FloatVector v) {
        FloatVector x = v.max(EXP_LO).min(EXP_HI);
        FloatVector t = x.fma(LOG2E, ROUNDER);
        FloatVector n = t.sub(ROUNDER);
        FloatVector r = n.fma(NEG_LN2_HI_V, x);
        r = n.fma(NEG_LN2_LO_V, r);
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, P2_V);
        p = p.fma(r, P3_V);
        p = p.fma(r, P4_V);
        p = p.fma(r, P5_V);
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        IntVector scale = t.reinterpretAsInts().sub(ROUNDER_BITS - 127).lanewise(VectorOperators.LSHL, 23);
        return y.mul(scale.reinterpretAsFloats());
    }

    static float exp(float v) {
        float x = Math.min(Math.max(v, EXP_LO), EXP_HI);
        float t = Math.fma(x, LOG2E, ROUNDER);
        float n = t - ROUNDER;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = Math.fma(p, r * r, r) + 1f;
        return y * Float.intBitsToFloat((Float.floatToRawIntBits(t) - (ROUNDER_BITS - 127)) << 23);
    }
}
