package io.mtpspark.engine.model;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.tensor.WeightTensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where loading as stored puts an F32 model's matrices: on the heap when small, mapped when not. */
class ModelLoaderTest {

    @Test
    void aSmallF32ModelLoadedAsStoredIsCopiedToTheHeapWithTheSameValues() {
        LlamaModel heap = ModelLoader.load(TestModels.storiesBin(), null);
        LlamaModel mapped = ModelLoader.load(TestModels.storiesBin());
        List<WeightTensor> h = matrices(heap.weights());
        List<WeightTensor> m = matrices(mapped.weights());
        assertEquals(m.size(), h.size());
        for (int i = 0; i < h.size(); i++) {
            assertEquals(DType.F32, h.get(i).dtype());
            assertTrue(h.get(i).isHeapF32(), "matrix " + i + " " + h.get(i));
            assertFalse(m.get(i).isHeapF32(), "matrix " + i + " " + m.get(i));
            assertArrayEquals(m.get(i).toFloatArray(), h.get(i).toFloatArray(), "matrix " + i);
        }
        assertTrue(heap.weights().classifier() == heap.weights().tokenEmbedding(), "tied classifier stays tied");
    }

    @Test
    void anF32ModelAboveTheLimitStaysMapped() {
        LlamaModel m = ModelLoader.load(TestModels.storiesBin(), null, 1 << 16); // stories260K: ~1 MB of matrices
        assertTrue(m.weights().matrixBytes() > 1 << 16);
        for (WeightTensor t : matrices(m.weights())) {
            assertFalse(t.isHeapF32(), t.toString());
        }
    }

    private static List<WeightTensor> matrices(LlamaWeights w) {
        List<WeightTensor> out = new ArrayList<>(List.of(w.tokenEmbedding()));
        for (LayerWeights l : w.layers()) {
            out.addAll(List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.wGate(), l.wDown(), l.wUp()));
        }
        return out;
    }
}
