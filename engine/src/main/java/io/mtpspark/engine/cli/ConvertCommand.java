package io.mtpspark.engine.cli;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.model.HfModelWriter;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.ModelLoader;
import io.mtpspark.engine.safetensors.DType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code convert}: writes a model (typically a llama2.c checkpoint) as a Hugging Face directory with HF tensor names
 * and rotate-half q/k layout, copying a llama2.c tokenizer found next to it as {@code tokenizer.bin} (and saying so:
 * no {@code tokenizer.json} is derived from it, as its score-ordered merges have no faithful HF equivalent here).
 */
@Command(name = "convert", description = "Convert a llama2.c checkpoint to a Hugging Face safetensors directory.")
final class ConvertCommand implements Callable<Integer> {
    @Option(names = "--model", description = "llama2.c .bin checkpoint (or HF directory); required unless "
            + "--random-model")
    Path model;

    @Option(names = "--random-model", description = "write a random model instead (seed 1, as bench --random-model "
            + "builds it): dim,hidden,layers,heads,kv_heads,vocab, e.g. 2048,5632,16,16,4,512 (default: --model)")
    String randomModel;

    @Option(names = "--tokenizer", description = "tokenizer to copy into the output (default: next to the model)")
    Path tokenizer;

    @Option(names = "--out", required = true, description = "output directory")
    Path out;

    @Option(names = "--dtype", defaultValue = "F32", description = "F32 | BF16 | F16")
    String dtype;

    @Option(names = "--verbose", description = "print stack traces for errors")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        DType type = DType.parse(dtype.toUpperCase(Locale.ROOT));
        if (type == null) {
            throw new IllegalArgumentException("--dtype: expected F32, BF16 or F16, got \"" + dtype + "\"");
        }
        if ((model == null) == (randomModel == null)) {
            throw new IllegalArgumentException("convert: give exactly one of --model and --random-model");
        }
        LlamaModel m = model != null ? ModelLoader.load(model) : BenchCommand.randomModel(randomModel, type);
        HfModelWriter.write(m, out, type);
        Path tok = tokenizer;
        if (tok == null && model != null && !Files.isDirectory(model)) {
            Path dir = model.toAbsolutePath().getParent();
            for (String name : new String[]{"tok" + m.config().vocabSize() + ".bin", "tokenizer.bin"}) {
                if (Files.isRegularFile(dir.resolve(name))) {
                    tok = dir.resolve(name);
                    break;
                }
            }
        }
        if (tok != null) {
            if (!Files.isRegularFile(tok)) {
                throw new EngineException(tok, "tokenizer file not found");
            }
            String target = tok.getFileName().toString().endsWith(".json") ? "tokenizer.json" : "tokenizer.bin";
            Files.copy(tok, out.resolve(target), StandardCopyOption.REPLACE_EXISTING);
        }
        System.out.println("wrote " + out.resolve("config.json") + " and " + out.resolve("model.safetensors") + " ("
                + type + ")");
        // said, because an HF directory without tokenizer.json looks complete but other tools find no tokenizer
        if (tok == null) {
            System.out.println("no tokenizer found next to the model: the output has none (give --tokenizer)");
        } else if (!tok.getFileName().toString().endsWith(".json")) {
            System.out.println("copied the llama2.c tokenizer " + tok + " as " + out.resolve("tokenizer.bin")
                    + " (no tokenizer.json written: Hugging Face tools will not find a tokenizer there; this engine "
                    + "reads tokenizer.bin)");
        }
        return 0;
    }
}
