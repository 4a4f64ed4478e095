package io.mtpspark.engine.chat;

import io.mtpspark.engine.model.HfModelWriter;
import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.model.RandomModel;
import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.tokenizer.RealTokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A Hugging Face chat-model directory made at test time (never committed): random weights in Llama 3's shape scaled
 * down (dim 64, 2 layers, GQA, rope theta 500000, untied classifier so sampled outputs vary) with the real 128,256-token vocabulary, the real Llama 3
 * {@code tokenizer.json} and {@code tokenizer_config.json} (chat template), and the Instruct model's
 * {@code generation_config.json} end-of-turn ids. A real model directory has the same layout.
 */
public final class RandomChatModel {
    public static final int VOCAB = 128256;

    private RandomChatModel() {
    }

    public static Path write(Path dir) throws IOException {
        LlamaConfig c = new LlamaConfig("LlamaForCausalLM", 64, 128, 2, 4, 2, VOCAB, 512, 16, 500000.0, 1e-5f, null,
                false, false, 128000, 128001, false);
        HfModelWriter.write(RandomModel.create(c, 7), dir, DType.BF16);
        Path tok = RealTokenizers.llama3();
        Files.copy(tok.resolve("tokenizer.json"), dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(tok.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"),
                StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(dir.resolve("generation_config.json"),
                "{\"bos_token_id\": 128000, \"eos_token_id\": [128001, 128009]}\n");
        return dir;
    }
}
