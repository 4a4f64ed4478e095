package io.mtpspark.engine.model;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.kvcache.KvCache;
import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.tensor.CpuBackend;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.tensor.WeightTensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where loading puts a model's matrices: on the heap in their own type when they fit {@link ModelLoader#heapLimit()},
 * mapped when not, with the same bits either way.
 */
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

    /**
     * A BF16 checkpoint that fits the heap budget is copied there as BF16 (no F32 copy: the heap grows by about the
     * file, not twice it) and computes bit for bit what the mapping computes; one above the budget stays mapped.
     */
    @Test
    void aBf16CheckpointThatFitsIsCopiedToTheHeapAsBf16WithTheMappingsBits(@TempDir Path dir) throws IOException {
        LlamaConfig c = MappedWeightsMemoryTest.writeBf16Checkpoint(dir, 5);
        long fileBytes = Files.size(dir.resolve("model.safetensors"));
        assertTrue(ModelLoader.heapLimit() > fileBytes, "test heap too small: " + ModelLoader.heapLimit());

        long heap0 = MappedWeightsMemoryTest.heapAfterGc();
        LlamaModel onHeap = ModelLoader.load(dir, null);
        long heapGrowth = MappedWeightsMemoryTest.heapAfterGc() - heap0;
        LlamaModel mapped = ModelLoader.load(dir);
        assertTrue(onHeap.weights().allOnHeap());
        assertFalse(mapped.weights().allOnHeap());
        for (WeightTensor t : matrices(onHeap.weights())) {
            assertEquals(DType.BF16, t.dtype(), t.toString());
            assertFalse(t.isHeapF32(), t.toString());
        }
        // about the file: G1 gives each array above half a region whole regions (the FFN matrices here, 1.4 MB in
        // 2 MB regions, ~1.2x in all); an F32 copy would be twice the file and more
        assertTrue(heapGrowth > fileBytes * 9 / 10 && heapGrowth < fileBytes * 3 / 2, "heap grew " + heapGrowth
                + " bytes copying a " + fileBytes + "-byte BF16 file");
        for (WeightTensor t : matrices(ModelLoader.load(dir, null, fileBytes / 2).weights())) {
            assertFalse(t.isHeap(), "above the limit: " + t);
        }
        System.setProperty(ModelLoader.HEAP_SHARE_PROPERTY, "0");
        try {
            assertEquals(ModelLoader.HEAP_FLOOR, ModelLoader.heapLimit());
            System.setProperty(ModelLoader.HEAP_SHARE_PROPERTY, "half");
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    ModelLoader::heapLimit);
            assertEquals("-Dmtp.weights.heapShare: expected a share of the heap between 0 and 1, got \"half\"",
                    e.getMessage());
        } finally {
            System.clearProperty(ModelLoader.HEAP_SHARE_PROPERTY);
        }

        try (CpuBackend cpu = new CpuBackend(2)) {
            float[][] logits = new float[2][];
            LlamaModel[] models = {onHeap, mapped};
            for (int i = 0; i < 2; i++) {
                LlamaForward f = new LlamaForward(models[i], cpu, 9, 16);
                KvCache cache = new KvCache(c, 16);
                int[] tokens = {5, 77, 300, 4, 9, 1000, 12, 3, 8};
                int[] positions = {0, 1, 2, 3, 4, 5, 6, 7, 8};
                f.forward(tokens, positions, 9, AttentionMask.CAUSAL, cache, new int[]{0, 4, 8}, 3);
                logits[i] = f.logits().clone();
            }
            assertArrayEquals(logits[1], logits[0], "heap BF16 against the mapping");
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
