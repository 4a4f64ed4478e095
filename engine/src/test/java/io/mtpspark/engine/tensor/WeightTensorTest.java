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

    @Test
    void wrongSizesNameTheShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WeightTensor.ofBytes(DType.BF16, ByteBuffer.allocate(10), 2, 3));
        assertEquals("weight of shape [2][3] BF16 needs 12 bytes, given 10", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> WeightTensor.ofFloats(new float[5], 2, 3));
        assertEquals("weight of shape [2][3] given 5 values", e.getMessage());
    }
}
