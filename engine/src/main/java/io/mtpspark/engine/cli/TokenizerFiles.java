package io.mtpspark.engine.cli;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.tokenizer.HfTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code --tokenizer}: a {@code tokenizer.json}, a {@code tokenizer_config.json} beside one, or their directory. */
final class TokenizerFiles {
    private TokenizerFiles() {
    }

    static Path tokenizerJson(Path given) {
        Path json = Files.isDirectory(given) ? given.resolve("tokenizer.json")
                : given.getFileName().toString().equals("tokenizer_config.json")
                ? given.toAbsolutePath().resolveSibling("tokenizer.json") : given;
        if (!Files.isRegularFile(json)) {
            throw new EngineException(json, "tokenizer file not found (--tokenizer takes a tokenizer.json or a "
                    + "directory holding one)");
        }
        return json;
    }

    static HfTokenizer load(Path given) {
        return HfTokenizer.load(tokenizerJson(given), 0);
    }
}
