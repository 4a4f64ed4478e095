package io.mtpspark.engine.device;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tokenizer.Llama2cTokenizer;

import java.util.ArrayList;
import java.util.List;

/** The stories260K prompts the device tests share: five story openings, tokenized, and their CPU greedy output. */
final class StoriesPrompts {
    static final String[] OPENINGS = {"Once upon a time", "The little dog", "Sara and Ben went to the park",
            "Max had a red ball", "The old man"};

    private StoriesPrompts() {
    }

    static List<int[]> openings(LlamaModel model) {
        Llama2cTokenizer tok = Llama2cTokenizer.load(TestModels.tok512(), model.config().vocabSize());
        List<int[]> prompts = new ArrayList<>();
        for (String s : OPENINGS) {
            prompts.add(tok.encode(s));
        }
        return prompts;
    }

    /** Greedy autoregressive ids on the CPU: the reference every device decoder must equal. */
    static List<int[]> cpuGreedy(LlamaModel model, List<int[]> prompts, int maxTokens) {
        AutoregressiveDecoder cpu = new AutoregressiveDecoder(new LlamaForward(model, new CpuBackend(1), 64, 512));
        List<int[]> expected = new ArrayList<>();
        for (int[] p : prompts) {
            expected.add(cpu.generate(p, maxTokens, SamplingOptions.GREEDY).generatedIds());
        }
        return expected;
    }
}
