package io.mtpspark.engine.tensor;

import io.mtpspark.engine.safetensors.DType;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightTensorTest {

    private static float[] randomValues(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian() * 3;
        }
        return v;
    }

    @Test
    void narrowingRoundsLikeTheDTypeConversionsAndWideningIsExact() {
        float[] v = randomValues(6 * 5, 1);
        WeightTensor f32 = WeightTensor.ofFloats(v, 6, 5);
        for (DType t : new DType[] {DType.BF16, DType.F16}) {
            WeightTensor narrow = f32.to(t);
            assertEquals(t, narrow.dtype());
            assertEquals(60, narrow.byteSize());
            float[] back = narrow.toFloatArray();
            for (int i = 0; i < v.length; i++) {
                float expected = t == DType.BF16 ? DType.bf16ToFloat(DType.floatToBf16(v[i]))
                        : DType.f16ToFloat(DType.floatToF16(v[i]));
                assertEquals(expected, back[i], 0f, "element " + i + " as " + t);
                assertEquals(expected, narrow.get(i / 5, i % 5), 0f);
            }
            assertArrayEquals(back, narrow.to(DType.F32).heapFloats());
        }
        assertSame(f32, f32.to(DType.F32));
    }

    @Test
    void bytesAreTheLittleEndianElementsWhateverTheSource() {
        float[] v = randomValues(12, 2);
        ByteBuffer le = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
        le.asFloatBuffer().put(v);
        WeightTensor mapped = WeightTensor.ofBytes(DType.F32, le, 3, 4);
        WeightTensor heap = WeightTensor.ofFloats(v.clone(), 3, 4);
        assertTrue(heap.isHeapF32());
        assertEquals(heap.bytes(), mapped.bytes());
        float[] row = new float[6];
        mapped.readRow(2, row, 1);
        assertArrayEquals(new float[] {0, v[8], v[9], v[10], v[11], 0}, row);
        // a view per call: reading one does not move another
        ByteBuffer a = mapped.bytes();
        a.getLong();
        assertEquals(0, mapped.bytes().position());
        assertThrows(IllegalStateException.class, mapped::heapFloats);
    }

    /**
     * A 16-bit tensor copied to the heap ({@link WeightTensor#onHeap}) holds the same raw bits in logical row order:
     * from a buffer with and without a row map, its elements, rows and little-endian bytes read back as the
     * buffer's, and a heap copy of a heap tensor is the tensor itself.
     */
    @Test
    void sixteenBitWeightsCopiedToTheHeapKeepTheirBitsAndRowOrder() {
        for (DType t : new DType[] {DType.BF16, DType.F16}) {
            WeightTensor narrow = WeightTensor.ofFloats(randomValues(6 * 5, 3), 6, 5).to(t);
            ByteBuffer direct = ByteBuffer.allocateDirect(60).order(ByteOrder.LITTLE_ENDIAN);
            direct.put(narrow.bytes()).flip();
            WeightTensor buffered = WeightTensor.ofBytes(t, direct, 6, 5);
            WeightTensor permuted = buffered.permuteRows(new int[] {5, 3, 1, 0, 2, 4});
            for (WeightTensor source : new WeightTensor[] {buffered, permuted}) {
                WeightTensor heap = source.onHeap();
                assertTrue(heap.isHeap() && !heap.isHeapF32() && !source.isHeap(), heap + " from " + source);
                assertEquals(t, heap.dtype());
                assertEquals(source.bytes(), heap.bytes(), source.toString());
                assertArrayEquals(source.toFloatArray(), heap.toFloatArray(), source.toString());
                assertEquals(source.get(1, 4), heap.get(1, 4), 0f);
                assertSame(heap, heap.onHeap());
            }
            assertEquals(permuted.bytes(), buffered.onHeap().permuteRows(new int[] {5, 3, 1, 0, 2, 4}).bytes());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WeightTensor.ofBits(DType.BF16, new short[5], 2, 3));
        assertEquals("weight of shape [2][3] given 5 elements", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WeightTensor.ofBits(DType.F32, new short[6], 2, 3));
    }

    @Test
    void wrongSizesNameTheShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WeightTensor.ofBytes(DType.BF16, ByteBuffer.allocate(10), 2, 3));
        assertEquals("weight of shape [2][3] BF16 needs 12 bytes, given 10", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> WeightTensor.ofFloats(new float[5], 2, 3));
        assertEquals("weight of shape [2][3] given 5 values", e.getMessage());
    }
}
