package io.mtpspark.engine.train;

import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.session.ModelBundle;
import io.mtpspark.engine.tensor.CpuBackend;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Training data from the base model itself: for each seed prompt, its greedy continuation, plus variants that first
 * sample a short prefix (temperature {@code prefixTemperature}) and then continue greedily. The loss starts at the
 * greedy part (the last token before it included), so every label is the base model's own greedy choice — what
 * greedy MTP decoding must predict — while the sampled prefixes widen the set of contexts seen.
 */
public final class SelfDistillation {

    /**
     * How much to generate: new tokens per sequence, sampled-prefix variants per prompt and their length range.
     * {@code maxTokens} bounds a whole sequence, prompt included (the model's context: training runs every token of
     * a sequence through the frozen model).
     */
    public record Options(int maxNewTokens, int sampledVariants, int maxPrefix, float prefixTemperature, long seed,
                          int threads, int maxTokens) {
    }

    private SelfDistillation() {
    }

    public static List<TrainingSequence> build(ModelBundle bundle, List<String> prompts, Options o) {
        int ctx = bundle.model().config().seqLen();
        int maxTokens = Math.min(o.maxTokens(), ctx);
        List<int[]> encoded = prompts.stream().map(bundle.tokenizer()::encode).toList();
        for (int i = 0; i < encoded.size(); i++) {
            // refused before any generation: a sequence needs at least 2 generated tokens after its prompt
            if (encoded.get(i).length > maxTokens - 2) {
                throw new IllegalArgumentException("seed prompt " + (i + 1) + " is " + encoded.get(i).length
                        + " tokens, but training sequences hold at most " + maxTokens + " tokens (the model's context)"
                        + ", prompt and at least 2 generated tokens included");
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(o.threads());
        try {
            List<Future<List<TrainingSequence>>> parts = new ArrayList<>();
            for (int w = 0; w < o.threads(); w++) {
                int worker = w;
                parts.add(pool.submit(() -> {
                    AutoregressiveDecoder decoder = new AutoregressiveDecoder(
                            new LlamaForward(bundle.model(), new CpuBackend(1), 64, ctx));
                    List<TrainingSequence> out = new ArrayList<>();
                    for (int i = worker; i < prompts.size(); i += o.threads()) {
                        int[] prompt = encoded.get(i);
                        add(out, prompt, greedy(decoder, prompt, Math.min(o.maxNewTokens(), maxTokens - prompt.length)),
                                prompt.length - 1);
                        java.util.SplittableRandom rng = new java.util.SplittableRandom(o.seed() * 7919 + i);
                        for (int v = 0; v < o.sampledVariants(); v++) {
                            int prefixLen = 1 + rng.nextInt(Math.max(1, o.maxPrefix()));
                            GenerationResult prefix = decoder.generate(prompt, prefixLen,
                                    new SamplingOptions(o.prefixTemperature(), 0, 0.95f, rng.nextLong()));
                            int[] context = concat(prompt, prefix.generatedIds());
                            if (prefix.finishReason() != io.mtpspark.engine.decode.FinishReason.LENGTH) {
                                continue; // the sampled prefix already ended the story
                            }
                            int rest = Math.min(o.maxNewTokens() - prefixLen, maxTokens - context.length);
                            if (rest > 1) {
                                add(out, context, greedy(decoder, context, rest), context.length - 1);
                            }
                        }
                    }
                    return out;
                }));
            }
            // gather in a fixed order (worker by worker) so the data set is deterministic
            List<TrainingSequence> all = new ArrayList<>();
            for (Future<List<TrainingSequence>> f : parts) {
                all.addAll(f.get());
            }
            return all;
        } catch (Exception e) {
            throw new IllegalStateException("self-distillation failed: " + e.getMessage(), e);
        } finally {
            pool.shutdownNow();
        }
    }

    private static int[] greedy(AutoregressiveDecoder decoder, int[] prompt, int maxNew) {
        return decoder.generate(prompt, maxNew, SamplingOptions.GREEDY).generatedIds();
    }

    private static void add(List<TrainingSequence> out, int[] context, int[] continuation, int lossStart) {
        if (continuation.length >= 2) {
            out.add(new TrainingSequence(concat(context, continuation), lossStart));
        }
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
