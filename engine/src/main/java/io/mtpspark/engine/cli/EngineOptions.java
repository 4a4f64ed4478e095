package io.mtpspark.engine.cli;

import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.ModelLoader;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.session.BackendChoice;
import io.mtpspark.engine.session.DecoderFactory;
import io.mtpspark.engine.session.GenerationChecks;
import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.session.ModelBundle;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options shared by the commands that load a model. */
final class EngineOptions {
    @Option(names = "--model", description = "llama2.c .bin checkpoint or Hugging Face directory (required unless a "
            + "command says otherwise)")
    Path model;

    @Option(names = "--tokenizer", description = "tokenizer file (llama2.c .bin or tokenizer.json); default: next "
            + "to the model")
    Path tokenizer;

    @Option(names = "--backend", defaultValue = "auto",
            description = "auto | cuda | emulated (the GPU engine on a CPU emulator; needs g++) | cpu | scalar")
    String backend;

    @Option(names = "--threads", defaultValue = "0", description = "CPU threads (0 = all cores)")
    int threads;

    @Option(names = "--verbose", description = "print stack traces for errors")
    boolean verbose;

    @Option(names = "--adapter", description = "MTP adapter (.safetensors) for the linear/quadratic decoders "
            + "(default: none)")
    Path adapter;

    @Option(names = "--k", defaultValue = "0", description = "mask tokens per step for MTP decoders "
            + "(0 = all of the adapter's)")
    int k;

    @Option(names = "--context", defaultValue = "0", description = "positions per sequence (0 = the model's, at most "
            + "4096)")
    int context;

    @Option(names = "--weights-dtype", defaultValue = "stored", description = "element type of the weight "
            + "matrices in memory: stored (as in the file, memory-mapped; models of at most 64 MiB, or of at most the "
            + "share S of the maximum heap with -Dmtp.weights.heapShare=S, copied to the heap) | "
            + "f32 (a heap copy) | bf16 | f16 (default: "
            + "${DEFAULT-VALUE})")
    String weightsDType;

    ModelBundle load() {
        if (model == null) {
            throw new IllegalArgumentException("--model is required");
        }
        GenerationChecks.k("--k", k); // before the model loads: a bad value fails at once
        return ModelBundle.load(model, tokenizer, weightDType());
    }

    /** The --weights-dtype choice; null keeps the file's. */
    DType weightDType() {
        return ModelLoader.parseWeightDType("--weights-dtype", weightsDType);
    }

    MtpAdapter loadAdapter(LlamaModel base) {
        return adapter == null ? null : MtpAdapter.load(adapter, base);
    }

    int effectiveK(MtpAdapter a) {
        return GenerationChecks.k("--k", k) > 0 ? k : a == null ? 0 : a.k();
    }

    /** {@code greedyOnly}: every request is greedy (a device backend then verifies and drafts on the device). */
    Decoder decoder(String name, LlamaModel model, Backend backend, MtpAdapter a, int batch, boolean greedyOnly) {
        return DecoderFactory.create(name, model, backend, a, effectiveK(a), context, batch, greedyOnly);
    }

    BackendChoice backendChoice() {
        return BackendChoice.parse(backend);
    }
}
