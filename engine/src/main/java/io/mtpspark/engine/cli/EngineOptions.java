package io.mtpspark.engine.cli;

import io.mtpspark.engine.session.BackendChoice;
import io.mtpspark.engine.session.ModelBundle;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options shared by the commands that load a model. */
final class EngineOptions {
    @Option(names = "--model", required = true, description = "llama2.c .bin checkpoint or Hugging Face directory")
    Path model;

    @Option(names = "--tokenizer", description = "tokenizer file (llama2.c .bin or tokenizer.json); default: next "
            + "to the model")
    Path tokenizer;

    @Option(names = "--backend", defaultValue = "auto", description = "auto | cpu | scalar (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--threads", defaultValue = "0", description = "CPU threads (0 = all cores)")
    int threads;

    @Option(names = "--verbose", description = "print stack traces for errors")
    boolean verbose;

    ModelBundle load() {
        return ModelBundle.load(model, tokenizer);
    }

    BackendChoice backendChoice() {
        return BackendChoice.parse(backend);
    }
}
