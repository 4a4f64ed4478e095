package io.mtpspark.engine.decode;

/**
 * One finished generation: the prompt ids, the generated ids (a stop token, when one ended the sequence, is the last
 * element, as Hugging Face reports EOS), why it ended, how many forward passes it took, where the time went and how drafts fared.
 * {@code stopString} is the stop string that ended it (the token that completed it is the last one; the text is cut
 * before the string), or null.
 */
public record GenerationResult(
        int[] promptIds,
        int[] generatedIds,
        FinishReason finishReason,
        int forwardPasses,
        long prefillNanos,
        long decodeNanos,
        DecodeStats stats,
        String stopString) {

    public GenerationResult(int[] promptIds, int[] generatedIds, FinishReason finishReason, int forwardPasses,
                            long prefillNanos, long decodeNanos, DecodeStats stats) {
        this(promptIds, generatedIds, finishReason, forwardPasses, prefillNanos, decodeNanos, stats, null);
    }

    public long totalNanos() {
        return prefillNanos + decodeNanos;
    }

    /** Generated tokens per second over the whole generation (prefill included). */
    public double tokensPerSecond() {
        return totalNanos() == 0 ? 0 : generatedIds.length * 1e9 / totalNanos();
    }

    public double tokensPerPass() {
        return forwardPasses == 0 ? 0 : generatedIds.length / (double) forwardPasses;
    }
}
