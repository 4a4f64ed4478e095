package io.mtpspark.engine.model;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.safetensors.DType;

import java.nio.file.Files;
import java.nio.file.Path;

/** Entry point for loading a model from a path: a llama2.c {@code .bin} file or a Hugging Face directory. */
public final class ModelLoader {
    private ModelLoader() {
    }

    /**
     * F32 matrices of a model whose matrices total at most this many bytes are kept on the heap when loaded as stored.
     * The JIT reads a heap {@code float[]} about twice as fast as a mapped buffer (JDK 17's Vector API loads from a
     * buffer re-check it on every load), which is what a compute-bound small model spends its time on; a copy of a
     * few MB costs nothing, while a large model stays mapped so the page cache remains its only copy.
     */
    public static final long HEAP_F32_LIMIT = 64L << 20;

    /**
     * As {@link #load(Path)}, with every weight matrix converted to {@code inMemory}. Null keeps the stored element
     * type, mapped where the file allows, except that an all-F32 model of at most {@link #HEAP_F32_LIMIT} bytes is
     * copied to the heap (same values, faster kernels). Converting needs a copy of the matrices in that type; keeping
     * a large model as stored needs none.
     */
    public static LlamaModel load(Path path, DType inMemory) {
        return load(path, inMemory, HEAP_F32_LIMIT);
    }

    static LlamaModel load(Path path, DType inMemory, long heapF32Limit) {
        LlamaModel m = load(path);
        DType target = inMemory;
        if (target == null && m.weights().allMatrices(DType.F32) && m.weights().matrixBytes() <= heapF32Limit) {
            target = DType.F32;
        }
        return target == null ? m : new LlamaModel(m.config(), m.weights().to(target), m.source());
    }

    /**
     * Parses a weight-dtype option value: {@code stored} (null), {@code f32}, {@code bf16} or {@code f16}, any case.
     */
    public static DType parseWeightDType(String option, String value) {
        if (value == null || value.equalsIgnoreCase("stored")) {
            return null;
        }
        DType t = DType.parse(value.toUpperCase(java.util.Locale.ROOT));
        if (t == null) {
            throw new IllegalArgumentException(option + ": expected stored, f32, bf16 or f16, got \"" + value + "\"");
        }
        return t;
    }

    public static LlamaModel load(Path path) {
        if (Files.isDirectory(path)) {
            return HfModelLoader.load(path);
        }
        if (!Files.exists(path)) {
            throw new EngineException(path, "model not found (expected a llama2.c .bin file or a Hugging Face "
                    + "directory)");
        }
        if (path.getFileName().toString().endsWith(".safetensors")) {
            throw new EngineException(path, "pass the model directory (with config.json), not the .safetensors file");
        }
        return Llama2cCheckpoint.load(path);
    }
}
