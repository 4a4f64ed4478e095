package io.mtpspark.engine.sampling;

/**
 * How to pick the next token: temperature 0 means greedy argmax; otherwise softmax(logits / temperature),
 * optionally cut to the {@code topK} most likely tokens (0 = off) and to the smallest set whose probability reaches
 * {@code topP} (1 = off), drawn with a generator seeded by {@code seed}.
 */
public record SamplingOptions(float temperature, int topK, float topP, long seed) {
    public static final SamplingOptions GREEDY = new SamplingOptions(0f, 0, 1f, 0L);

    public SamplingOptions {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        }
    }

    public boolean greedy() {
        return temperature == 0f;
    }
}
