package io.mtpspark.jobs.generate;

import io.mtpspark.jobs.cli.GenerateOptions;
import java.io.Serializable;
import java.util.Optional;

/**
 * The part of {@link GenerateOptions} that tasks need, in a form Java serialisation can ship to executors (no
 * {@code Optional}s: absent values are null).
 */
public record GenerationSettings(String model, String tokenizer, String adapter, String decoder, int k,
                                 int batchSize, String backend, int threadsPerTask, int context, int maxTokens,
                                 double temperature, int topK, double topP, long seed, double speedupSample,
                                 GenerateOptions.FailurePlan failure, io.mtpspark.jobs.chat.ChatSettings chat,
                                 int n) implements Serializable {

    /** Settings without chat options, one sample per row. */
    public GenerationSettings(String model, String tokenizer, String adapter, String decoder, int k, int batchSize,
                              String backend, int threadsPerTask, int context, int maxTokens, double temperature,
                              int topK, double topP, long seed, double speedupSample,
                              GenerateOptions.FailurePlan failure) {
        this(model, tokenizer, adapter, decoder, k, batchSize, backend, threadsPerTask, context, maxTokens,
                temperature, topK, topP, seed, speedupSample, failure, io.mtpspark.jobs.chat.ChatSettings.NONE, 1);
    }

    public static GenerationSettings of(GenerateOptions o) {
        return new GenerationSettings(o.model(), o.tokenizer().orElse(null), o.adapter().orElse(null), o.decoder(),
                o.effectiveK(), o.batchSize(), o.backend(), o.threadsPerTask(), o.context(), o.maxTokens(),
                o.temperature(), o.topK(), o.topP(), o.seed(), o.speedupSample(), o.failurePlan().orElse(null), o.chatSettings(), o.n());
    }

    public Optional<String> tokenizerLocation() {
        return Optional.ofNullable(tokenizer);
    }

    public Optional<String> adapterLocation() {
        return Optional.ofNullable(adapter);
    }
}
