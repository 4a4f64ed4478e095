package io.mtpspark.engine.decode;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.kvcache.KvCache;
import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.sampling.Sampler;
import io.mtpspark.engine.sampling.SamplingOptions;

import java.util.Arrays;

/**
 * Plain next-token decoding, the baseline every other decoder is checked against: one block forward over the
 * prompt (in chunks of the forward's row capacity), then one single-token forward per generated token.
 */
public final class AutoregressiveDecoder implements Decoder {
    private final LlamaForward forward;
    private final KvCache cache;
    private final StopRule stop;
    private final int[] one = new int[1];
    private final int[] onePos = new int[1];
    private final int[] logitRow = new int[1];

    public AutoregressiveDecoder(LlamaForward forward) {
        this.forward = forward;
        this.cache = new KvCache(forward.model().config(), forward.maxContext() + forward.maxRows());
        this.stop = StopRule.of(forward.model().config());
    }

    @Override
    public String name() {
        return "autoregressive";
    }

    @Override
    public GenerationResult generate(int[] promptIds, int maxTokens, SamplingOptions sampling) {
        checkPrompt(promptIds, forward.maxContext());
        Sampler sampler = new Sampler(sampling, forward.model().config().vocabSize());
        int vocab = forward.model().config().vocabSize();
        long t0 = System.nanoTime();
        cache.truncate(0);
        int passes = prefill(forward, cache, promptIds);
        int[] out = new int[Math.max(0, maxTokens)];
        int produced = 0;
        FinishReason reason = FinishReason.LENGTH;
        long t1 = System.nanoTime();
        if (maxTokens > 0) {
            int next = sampler.sample(forward.logits(), 0, vocab);
            out[produced++] = next;
            t1 = System.nanoTime();
            while (true) {
                if (stop.isStop(next)) {
                    reason = FinishReason.STOP;
                    break;
                }
                if (produced >= maxTokens || cache.length() >= forward.maxContext()) {
                    break;
                }
                one[0] = next;
                onePos[0] = cache.length();
                logitRow[0] = 0;
                forward.forward(one, onePos, 1, AttentionMask.CAUSAL, cache, logitRow, 1);
                passes++;
                next = sampler.sample(forward.logits(), 0, vocab);
                out[produced++] = next;
            }
        }
        long t2 = System.nanoTime();
        DecodeStats stats = new DecodeStats(name(), 0, new long[]{Math.max(0, passes - 1)}, new long[0], new long[0],
                t2 - t0, 0, 0);
        return new GenerationResult(promptIds.clone(), Arrays.copyOf(out, produced), reason, passes, t1 - t0,
                t2 - t1, stats);
    }

    /**
     * Runs the prompt through the model in blocks of at most {@code maxRows}, causal, leaving the last prompt row's
     * logits in {@code forward.logits()}. Returns the number of forward passes.
     */
    static int prefill(LlamaForward forward, KvCache cache, int[] promptIds) {
        int passes = 0;
        int maxRows = forward.maxRows();
        int[] tokens = new int[Math.min(maxRows, promptIds.length)];
        int[] positions = new int[tokens.length];
        int[] lastRow = new int[1];
        for (int start = 0; start < promptIds.length; start += maxRows) {
            int n = Math.min(maxRows, promptIds.length - start);
            for (int i = 0; i < n; i++) {
                tokens[i] = promptIds[start + i];
                positions[i] = cache.length() + i;
            }
            boolean last = start + n == promptIds.length;
            lastRow[0] = n - 1;
            forward.forward(tokens, positions, n, AttentionMask.CAUSAL, cache, last ? lastRow : null, last ? 1 : 0);
            passes++;
        }
        return passes;
    }

    static void checkPrompt(int[] promptIds, int context) {
        if (promptIds.length == 0) {
            throw new EngineException("empty prompt: at least one token (BOS) is required");
        }
        if (promptIds.length >= context) {
            throw new EngineException("prompt of " + promptIds.length + " tokens does not fit the context of "
                    + context + " positions (at least one position must remain for generation)");
        }
    }
}
