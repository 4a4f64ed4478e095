package io.mtpspark.infra.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Copies the repository's real stories260K model files (weights and tokenizer) into a scratch directory. */
public final class ModelFixture {
    public static final String WEIGHTS = "stories260K.bin";
    public static final String TOKENIZER = "tok512.bin";

    private ModelFixture() {
    }

    public static Path modelSource() {
        Path root = Path.of(System.getProperty("mtp.repo.root", ".."));
        Path dir = root.resolve("models/stories260K");
        if (!Files.isRegularFile(dir.resolve(WEIGHTS))) {
            throw new IllegalStateException("model files not found under " + dir.toAbsolutePath());
        }
        return dir;
    }

    /** A fresh directory holding copies of the weights and the tokenizer. */
    public static Path copyModel(Path target) throws IOException {
        Files.createDirectories(target);
        Files.copy(modelSource().resolve(WEIGHTS), target.resolve(WEIGHTS));
        Files.copy(modelSource().resolve(TOKENIZER), target.resolve(TOKENIZER));
        return target;
    }
}
