package io.mtpspark.engine.session;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.ModelLoader;
import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.tensor.SimdWidth;
import io.mtpspark.engine.tokenizer.HfTokenizer;
import io.mtpspark.engine.tokenizer.Llama2cTokenizer;
import io.mtpspark.engine.tokenizer.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model and the tokenizer that goes with it, loaded once and shared (read-only) by every generating thread.
 * When no tokenizer is named it is found next to the model: {@code tokenizer.json} (or {@code tokenizer.bin}) in a
 * Hugging Face directory, {@code tok<vocab>.bin} or {@code tokenizer.bin} beside a llama2.c checkpoint.
 */
public record ModelBundle(LlamaModel model, Tokenizer tokenizer) {

    public static ModelBundle load(Path modelPath, Path tokenizerPath) {
        return load(modelPath, tokenizerPath, null);
    }

    /** With the weight matrices in {@code weightDType} in memory (null: as stored in the file). */
    public static ModelBundle load(Path modelPath, Path tokenizerPath, DType weightDType) {
        LlamaModel model = ModelLoader.load(modelPath, weightDType);
        SimdWidth.fitHeadDim(model.config().headDim());
        Path tok = tokenizerPath != null ? tokenizerPath : findTokenizer(modelPath, model.config().vocabSize());
        return new ModelBundle(model, loadTokenizer(tok, model.config().vocabSize()));
    }

    public static Tokenizer loadTokenizer(Path file, int vocab) {
        return file.getFileName().toString().endsWith(".json") ? HfTokenizer.load(file, vocab)
                : Llama2cTokenizer.load(file, vocab);
    }

    static Path findTokenizer(Path modelPath, int vocab) {
        Path dir = Files.isDirectory(modelPath) ? modelPath : modelPath.toAbsolutePath().getParent();
        for (String name : new String[]{"tokenizer.json", "tok" + vocab + ".bin", "tokenizer.bin"}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new EngineException(modelPath, "no tokenizer found next to the model (looked for tokenizer.json, tok"
                + vocab + ".bin, tokenizer.bin in " + dir + "); pass --tokenizer");
    }
}
