package io.mtpspark.engine.model;

import io.mtpspark.engine.EngineException;

import java.nio.file.Files;
import java.nio.file.Path;

/** Entry point for loading a model from a path: a llama2.c {@code .bin} file or a Hugging Face directory. */
public final class ModelLoader {
    private ModelLoader() {
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
