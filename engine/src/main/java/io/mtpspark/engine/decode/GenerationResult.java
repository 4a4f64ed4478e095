package io.mtpspark.engine.decode;

/**
 * One finished generation: the prompt ids, the generated ids (a stop token, when one ended the sequence, is the last
 * element, as Hugging Face reports EOS), why it ended, how many forward passes it took, where the time went and how drafts fared.
 */
public record GenerationResult(
        int[] promptIds,
        int[] generatedIds,
        FinishReason finishReason,
        int forwardPasses,
        long prefillNanos,
        long decodeNanos,
        DecodeStats stats) {

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
