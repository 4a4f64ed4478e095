package io.mtpspark.engine.tensor;

import io.mtpspark.engine.safetensors.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU backend's kernels over {@link WeightTensor}s (mapped F32, BF16, F16) against the scalar oracle reading the
 * same weights, on shapes that hit the SIMD tails, the four-row blocks and the parallel path.
 */
class TensorMatmulTest {
    private static final int[][] SHAPES = {{1, 64, 64}, {5, 67, 33}, {81, 256, 300}, {9, 1000, 517}, {3, 7, 1},
            {17, 2048, 40}, {2, 31, 129}, {11, 77, 130}, {12, 1000, 131}, {3, 70, 36}};
    private final ScalarBackend ref = new ScalarBackend();

    @Test
    void widenMatchesTheScalarConversionsForEveryBitPattern() {
        for (DType dt : new DType[]{DType.BF16, DType.F16}) {
            short[] b = new short[65536 + 3];
            for (int i = 0; i < 65536; i++) {
                b[i] = (short) i;
            }
            // from an odd element offset, with a natural-order chunk and a scalar tail (pair order undone): the
            // staged element i + 1 lands in dst[i]
            int l = VectorKernels.lanes();
            int n = 65536 - 1;
            int bound = n - n % l;
            assertEquals(true, n % (2 * l) >= l, "the shape reaches the natural-order chunk");
            float[] pairs = new float[n];
            VectorKernels.widenChunks(b, dt == DType.BF16, 1, pairs, 0, l, bound, n);
            float[] dst = new float[n];
            for (int c = 0; c + 2 * l <= bound; c += 2 * l) {
                for (int j = 0; j < l; j++) {
                    dst[c + 2 * j] = pairs[c + j];
                    dst[c + 2 * j + 1] = pairs[c + l + j];
                }
            }
            System.arraycopy(pairs, bound - bound % (2 * l), dst, bound - bound % (2 * l), n - bound + bound % (2 * l));
            for (int i = 0; i < n; i++) {
                short bits = (short) (i + 1);
                float want = dt == DType.BF16 ? DType.bf16ToFloat(bits) : DType.f16ToFloat(bits);
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(dst[i]),
                        dt + " bits 0x" + Integer.toHexString(bits & 0xffff));
            }
        }
    }

    @Test
    void tensorMatmulMatchesTheOracleInEveryDtype() {
        try (CpuBackend cpu = new CpuBackend(2)) {
            forEachShape(7, (rows, x, heap) -> {
                for (WeightTensor w : sixteenBitAndBufferKinds(heap)) {
                    float[] a = new float[rows * heap.rows()];
                    float[] b = new float[rows * heap.rows()];
                    ref.matmul(a, x, rows, w);
                    cpu.matmul(b, x, rows, w);
                    for (int i = 0; i < a.length; i++) {
                        assertEquals(a[i], b[i], 1e-4f * (1 + Math.abs(a[i])), w + " rows " + rows + " at " + i);
                    }
                }
            });
        }
    }

    /** An F32 weight computes the same bits whether it is a heap array or a mapped buffer, whatever the rows. */
    @Test
    void bufferF32IsBitIdenticalToHeapF32() {
        try (CpuBackend cpu = new CpuBackend(2)) {
            forEachShape(8, (rows, x, heap) -> {
                float[] a = new float[rows * heap.rows()];
                float[] b = new float[rows * heap.rows()];
                cpu.matmul(a, x, rows, heap);
                cpu.matmul(b, x, rows, mappedF32(heap));
                assertArrayEquals(a, b, heap + " rows " + rows);
            });
        }
    }

    /**
     * The decode tiles read buffer-backed weights in place on JDK 17 and from rows staged into heap scratch on JDK
     * 19+ (no buffer loads there), and 16-bit weights held on the heap straight from their array; all give the same
     * bits, for every dtype and row count, so output depends neither on the JDK nor on where the weights are held.
     */
    @Test
    void stagedAndHeapWeightsGiveTheBitsOfInPlaceReads() {
        try (CpuBackend inPlace = new CpuBackend(2, true); CpuBackend staged = new CpuBackend(2, false)) {
            forEachShape(9, (rows, x, heap) -> {
                for (DType dt : new DType[]{DType.F32, DType.BF16, DType.F16}) {
                    WeightTensor onHeap = dt == DType.F32 ? heap : heap.to(dt);
                    WeightTensor buffered = inBuffer(onHeap);
                    assertTrue(onHeap.isHeap() && !buffered.isHeap(), onHeap + " / " + buffered);
                    float[] a = new float[rows * heap.rows()];
                    inPlace.matmul(a, x, rows, buffered);
                    for (CpuBackend cpu : new CpuBackend[]{inPlace, staged}) {
                        for (WeightTensor w : new WeightTensor[]{buffered, onHeap, buffered.onHeap()}) {
                            float[] b = new float[rows * heap.rows()];
                            cpu.matmul(b, x, rows, w);
                            assertArrayEquals(a, b, w + " rows " + rows + (cpu == staged ? ", staged" : ""));
                        }
                    }
                }
            });
        }
    }

    /**
     * Several weights over one input in one call ({@link CpuBackend#matmuls}: the input prepared once, the outputs
     * of all weights split over the threads together) give each output the bits its own matmul gives, for every kind
     * of weight, with output counts that are not multiples of four (the threads' ranges cross from one weight into
     * the next off a tile boundary), on the serial and the parallel path, and for a mixed list (one call each).
     */
    @ParameterizedTest
    @ValueSource(ints = {300, 2520})
    void fusedMatmulsGiveEachWeightItsOwnBits(int in) {
        SplittableRandom rng = new SplittableRandom(in);
        int[] outs = {130, 37, 66};
        WeightTensor[] heap = new WeightTensor[outs.length];
        for (int i = 0; i < outs.length; i++) {
            heap[i] = WeightTensor.ofFloats(random(rng, outs[i] * in), outs[i], in);
        }
        WeightTensor[][] lists = new WeightTensor[6][outs.length];
        for (int i = 0; i < outs.length; i++) {
            lists[0][i] = heap[i];
            lists[1][i] = mappedF32(heap[i]);
            lists[2][i] = inBuffer(heap[i].to(DType.BF16));
            lists[3][i] = heap[i].to(DType.F16);
            lists[4][i] = i == 1 ? heap[i] : i == 0 ? heap[i].to(DType.BF16) : inBuffer(heap[i].to(DType.BF16));
            lists[5][i] = inBuffer(heap[i].to(DType.F16));
        }
        try (CpuBackend cpu = new CpuBackend(2)) {
            for (int rows : new int[]{1, 3, 9, 17, 81}) {
                float[] x = random(rng, rows * in);
                for (WeightTensor[] ws : lists) {
                    float[][] fused = new float[outs.length][];
                    for (int i = 0; i < outs.length; i++) {
                        fused[i] = new float[rows * outs[i]];
                    }
                    cpu.matmuls(fused, x, rows, ws);
                    for (int i = 0; i < outs.length; i++) {
                        float[] alone = new float[rows * outs[i]];
                        cpu.matmul(alone, x, rows, ws[i]);
                        assertArrayEquals(alone, fused[i], ws[i] + " (weight " + i + ") rows " + rows + " in " + in);
                    }
                }
            }
        }
    }

    private interface ShapeCheck {
        void run(int rows, float[] x, WeightTensor heapWeight);
    }

    /** Random inputs {@code [rows][in]} and a heap F32 weight {@code [out][in]} for each of {@link #SHAPES}. */
    private static void forEachShape(long seed, ShapeCheck check) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (int[] s : SHAPES) {
            float[] x = random(rng, s[0] * s[1]);
            check.run(s[0], x, WeightTensor.ofFloats(random(rng, s[2] * s[1]), s[2], s[1]));
        }
    }

    /**
     * A row's result does not depend on how many other rows share the call (block-shape independence): blocks of 2,
     * 3, 5 and 8 (the buffer kernels in place; from 5 rows BF16 takes three-row tiles with AVX-512), 9, 10, 12 and 13
     * (in place with AVX-512, else blocked), 17, 18 and 81 rows (blocked: an MTP step's block sizes, with one and two
     * single rows after the whole tiles), each row bit for bit what it computes alone through the decode path, on the
     * parallel path with a tail of four columns and of two outputs; with rows of 300 (one block of the blocked tiles)
     * and 310 (one block) and of 2,520 (three blocks, the last one short, so the accumulators are carried from block
     * to block); 310 and 2,520 end in a natural-order chunk and a scalar tail with 16 lanes, 300 with 8; and with
     * short rows of 16 and 27 (a LoRA up-projection's rank: summed across outputs, 130 outputs leaving two, or more
     * on a thread's range, to the one-output form).
     */
    @ParameterizedTest
    @ValueSource(ints = {16, 27, 300, 310, 2520})
    void eachRowIsIndependentOfTheBlockAroundIt(int in) {
        try (CpuBackend cpu = new CpuBackend(2)) {
            SplittableRandom rng = new SplittableRandom(9);
            int out = 130;
            WeightTensor heap = WeightTensor.ofFloats(random(rng, out * in), out, in);
            java.util.List<WeightTensor> kinds = new java.util.ArrayList<>(java.util.List.of(heap));
            kinds.addAll(java.util.List.of(sixteenBitAndBufferKinds(heap)));
            for (WeightTensor w : kinds) {
                for (int rows : new int[]{2, 3, 5, 8, 9, 10, 12, 13, 17, 18, 81}) {
                    float[] x = random(rng, rows * in);
                    float[] block = new float[rows * out];
                    cpu.matmul(block, x, rows, w);
                    for (int r : new int[]{0, 1, 2, 3, 4, 8, 9, 11, 12, 16, 17, 41, 78, 79, 80}) {
                        if (r >= rows) {
                            continue;
                        }
                        float[] one = new float[out];
                        cpu.matmul(one, java.util.Arrays.copyOfRange(x, r * in, (r + 1) * in), 1, w);
                        assertArrayEquals(one, java.util.Arrays.copyOfRange(block, r * out, (r + 1) * out),
                                w + " block of " + rows + ", row " + r);
                    }
                }
            }
        }
    }

    /**
     * A buffer-backed tensor with permuted rows (a row map over the same buffer, no copy) computes exactly what a
     * copy with its rows moved computes, on the decode path and the block path, and reads back the same elements.
     */
    @Test
    void permutedRowsComputeExactlyWhatAPermutedCopyComputes() {
        try (CpuBackend cpu = new CpuBackend(2)) {
            SplittableRandom rng = new SplittableRandom(10);
            int in = 300;
            int out = 132;
            WeightTensor heap = WeightTensor.ofFloats(random(rng, out * in), out, in);
            int[] source = new int[out];
            for (int r = 0; r < out; r++) {
                source[r] = (r * 37 + 5) % out; // 37 is coprime with 132: a permutation scattering neighbours
            }
            for (WeightTensor w : sixteenBitAndBufferKinds(heap)) {
                WeightTensor mapped = w.permuteRows(source);
                WeightTensor twice = mapped.permuteRows(source); // maps compose
                WeightTensor copy = copyPermuted(copyPermuted(w, source), source);
                assertEquals(copy.bytes(), twice.bytes(), w + " bytes in logical order");
                for (int rows : new int[]{1, 3, 9, 81}) {
                    float[] x = random(rng, rows * in);
                    float[] a = new float[rows * out];
                    float[] b = new float[rows * out];
                    cpu.matmul(a, x, rows, copy);
                    cpu.matmul(b, x, rows, twice);
                    assertArrayEquals(a, b, w + " rows " + rows);
                    ref.matmul(a, x, rows, copy);
                    ref.matmul(b, x, rows, twice);
                    assertArrayEquals(a, b, "oracle, " + w + " rows " + rows);
                }
            }
        }
    }

    /** Rows moved byte for byte into a new direct buffer: what loading did before row maps. */
    private static WeightTensor copyPermuted(WeightTensor w, int[] source) {
        int rowBytes = w.cols() * w.dtype().bytes();
        ByteBuffer src = w.bytes();
        ByteBuffer dst = ByteBuffer.allocateDirect(w.rows() * rowBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < w.rows(); r++) {
            dst.put(r * rowBytes, src, source[r] * rowBytes, rowBytes);
        }
        return WeightTensor.ofBytes(w.dtype(), dst, w.rows(), w.cols());
    }

    static WeightTensor mappedF32(WeightTensor heap) {
        return inBuffer(heap);
    }

    /** {@code t}'s raw elements in a direct buffer (as a mapped checkpoint holds them), in its own dtype. */
    static WeightTensor inBuffer(WeightTensor t) {
        ByteBuffer direct = ByteBuffer.allocateDirect((int) t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        direct.put(t.bytes()).flip();
        return WeightTensor.ofBytes(t.dtype(), direct, t.rows(), t.cols());
    }

    /**
     * The weight kinds every kernel must serve, from one heap F32 weight: F32 in a buffer, and BF16 and F16 each in a
     * buffer (mapped checkpoints) and on the heap (converted in memory, or copied there by the loader).
     */
    static WeightTensor[] sixteenBitAndBufferKinds(WeightTensor heap) {
        WeightTensor bf16 = heap.to(DType.BF16);
        WeightTensor f16 = heap.to(DType.F16);
        return new WeightTensor[]{mappedF32(heap), inBuffer(bf16), inBuffer(f16), bf16, f16};
    }

    static float[] random(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        return v;
    }
}
