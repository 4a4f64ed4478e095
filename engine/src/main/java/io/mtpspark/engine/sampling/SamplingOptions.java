package io.mtpspark.engine.sampling;

import io.mtpspark.engine.session.GenerationChecks;

/**
 * How to pick the next token: temperature 0 means greedy argmax; otherwise softmax(logits / temperature),
 * optionally cut to the {@code topK} most likely tokens (0 = off) and to the smallest set whose probability reaches
 * {@code topP} (1 = off), drawn with a generator seeded by {@code seed}.
 */
public record SamplingOptions(float temperature, int topK, float topP, long seed) {
    public static final SamplingOptions GREEDY = new SamplingOptions(0f, 0, 1f, 0L);

    public SamplingOptions {
        GenerationChecks.temperature("temperature", temperature);
        GenerationChecks.topK("top-k", topK);
        GenerationChecks.topP("top-p", topP);
    }

    public boolean greedy() {
        return temperature == 0f;
    }
}
