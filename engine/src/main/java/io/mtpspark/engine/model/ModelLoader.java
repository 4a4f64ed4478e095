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
     * As {@link #load(Path)}, with every weight matrix converted to {@code inMemory} (null: kept as stored, mapped
     * where the file allows). Converting needs a copy of the matrices in that type; keeping them as stored needs none.
     */
    public static LlamaModel load(Path path, DType inMemory) {
        LlamaModel m = load(path);
        return inMemory == null ? m : new LlamaModel(m.config(), m.weights().to(inMemory), m.source());
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
