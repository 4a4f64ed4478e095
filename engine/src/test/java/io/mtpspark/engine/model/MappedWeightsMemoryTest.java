package io.mtpspark.engine.model;

import io.mtpspark.engine.kvcache.KvCache;
import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tensor.WeightTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Loading a BF16 checkpoint keeps its matrices in the file's mapping: the heap grows by a small fraction of the file
 * (an F32 copy would be twice the file), direct memory not at all (the q/k RoPE permutation is a row map over the
 * mapping, not a copy), and the mapped pool by the whole file.
 */
class MappedWeightsMemoryTest {

    @Test
    void bf16CheckpointIsServedFromTheMappingWithoutAnF32Copy(@TempDir Path dir) throws IOException {
        LlamaConfig c = writeBf16Checkpoint(dir, 3);
        long fileBytes = Files.size(dir.resolve("model.safetensors"));

        long heap0 = heapAfterGc();
        long direct0 = pool("direct");
        long mapped0 = pool("mapped");
        LlamaModel m = ModelLoader.load(dir);
        long heapGrowth = heapAfterGc() - heap0;
        long directGrowth = pool("direct") - direct0;
        long mappedGrowth = pool("mapped") - mapped0;

        for (LayerWeights l : m.weights().layers()) {
            for (WeightTensor t : new WeightTensor[]{l.wq(), l.wk(), l.wv(), l.wo(), l.wGate(), l.wUp(), l.wDown()}) {
                assertEquals(DType.BF16, t.dtype(), t.toString());
                assertFalse(t.isHeapF32(), t.toString());
            }
        }
        assertTrue(heapGrowth < fileBytes / 8, "heap grew " + heapGrowth + " bytes loading a " + fileBytes
                + "-byte BF16 file");
        assertTrue(directGrowth <= 1 << 20, "direct memory grew " + directGrowth + " bytes (a q/k copy would be "
                + (long) c.nLayers() * (c.qDim() + c.kvDim()) * c.dim() * 2 + ")");
        assertTrue(mappedGrowth >= fileBytes - (1 << 20), "mapped " + mappedGrowth + " of " + fileBytes + " bytes");

        try (CpuBackend cpu = new CpuBackend(1)) { // and the model serves from the mapping
            LlamaForward f = new LlamaForward(m, cpu, 1, 16);
            f.forward(new int[]{5}, new int[]{0}, 1, AttentionMask.CAUSAL, new KvCache(c, 16), new int[]{0}, 1);
            assertTrue(Float.isFinite(f.logits()[0]));
        }
    }

    /** A random BF16 checkpoint of ~38 MB (dim 512, 4 layers) written to {@code dir}; returns its config. */
    static LlamaConfig writeBf16Checkpoint(Path dir, long seed) throws IOException {
        LlamaConfig c = new LlamaConfig("LlamaForCausalLM", 512, 1376, 4, 8, 2, 8000, 512, 64, 10000.0, 1e-5f, null,
                false, false, 1, 2, false);
        HfModelWriter.write(RandomModel.create(c, seed, DType.BF16), dir, DType.BF16);
        return c;
    }

    static long heapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static long pool(String name) {
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (b.getName().equals(name)) {
                return b.getMemoryUsed();
            }
        }
        throw new IllegalStateException("no buffer pool " + name);
    }
}
