package io.mtpspark.engine.session;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.LinearDecoder;
import io.mtpspark.engine.decode.QuadraticDecoder;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.SamplerHeadDrafter;
import io.mtpspark.engine.tensor.Backend;

import java.util.List;

/**
 * Builds a {@link Decoder} by name ({@code autoregressive}, {@code linear}, {@code quadratic}) and batch size, the
 * way the CLI and the Spark job choose one. MTP decoders need an adapter and a k in 1..K of that adapter.
 */
public final class DecoderFactory {
    public static final List<String> NAMES = List.of("autoregressive", "linear", "quadratic");
    /** Context used when the caller does not choose one: the model's, capped to keep the KV cache reasonable. */
    public static final int DEFAULT_MAX_CONTEXT = 4096;

    private DecoderFactory() {
    }

    /** Sequences decoded together when the caller does not choose. */
    public static final int DEFAULT_BATCH_SIZE = 1;
    /** Largest {@code --batch-size}: the forward's scratch grows with it. */
    public static final int MAX_BATCH_SIZE = 1024;

    /** One sequence at a time. */
    public static Decoder create(String name, LlamaModel model, Backend backend, MtpAdapter adapter, int k,
                                 int context) {
        return create(name, model, backend, adapter, k, context, DEFAULT_BATCH_SIZE);
    }

    /**
     * @param context   positions per sequence (prompt + generation); {@code <= 0} means the model's maximum, capped
     *                  at {@value #DEFAULT_MAX_CONTEXT}
     * @param batchSize sequences decoded together (continuous batching), 1..{@value #MAX_BATCH_SIZE}
     */
    public static Decoder create(String name, LlamaModel model, Backend backend, MtpAdapter adapter, int k,
                                 int context, int batchSize) {
        if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
            throw new IllegalArgumentException("--batch-size: expected 1.." + MAX_BATCH_SIZE + ", got " + batchSize);
        }
        int ctx = context > 0 ? Math.min(context, model.config().seqLen())
                : Math.min(model.config().seqLen(), DEFAULT_MAX_CONTEXT);
        // prompt chunk per sequence: 64 rows, shrinking with large batches so one forward stays within ~512 rows
        int promptRows = batchSize <= 8 ? 64 : Math.max(8, 512 / batchSize);
        // KV caches are Java arrays on every backend: refuse a batch × context the heap cannot hold, up front.
        long worstRows = (long) Math.max(promptRows, (k + 1) * (k + 1)) * batchSize;
        MemoryEstimate.check(model.config(), ctx, batchSize, worstRows, (long) (k + 1) * batchSize,
                MemoryEstimate.availableHeap());
        switch (name) {
            case "autoregressive":
                return new AutoregressiveDecoder(new LlamaForward(model, backend, promptRows * batchSize, ctx,
                        batchSize), batchSize);
            case "linear":
            case "quadratic":
                if (adapter == null) {
                    throw new EngineException("decoder " + name + " needs an MTP adapter (--adapter)");
                }
                try {
                    GenerationChecks.kWithinAdapter(k, adapter.k());
                } catch (IllegalArgumentException e) {
                    throw new EngineException(e.getMessage());
                }
                int blockRows = name.equals("linear") ? 2 * k + 1 : (k + 1) * (k + 1);
                int rows = Math.max(promptRows, blockRows);
                LlamaForward forward = new LlamaForward(model, backend, rows * batchSize, ctx,
                        (k + 1) * batchSize);
                SamplerHeadDrafter drafter = new SamplerHeadDrafter(model, adapter, backend);
                return name.equals("linear") ? new LinearDecoder(forward, adapter, k, drafter, batchSize)
                        : new QuadraticDecoder(forward, adapter, k, drafter, batchSize);
            default:
                throw new IllegalArgumentException("--decoder: expected one of " + String.join(", ", NAMES)
                        + ", got \"" + name + "\"");
        }
    }
}
