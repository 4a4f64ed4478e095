package io.mtpspark.engine.session;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.LinearDecoder;
import io.mtpspark.engine.decode.QuadraticDecoder;
import io.mtpspark.engine.decode.StopRule;
import io.mtpspark.engine.device.DeviceBackend;
import io.mtpspark.engine.device.DeviceForward;
import io.mtpspark.engine.llama.BlockForward;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.Drafter;
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
        return create(name, model, backend, adapter, k, context, batchSize, false);
    }

    /**
     * As {@link #create(String, LlamaModel, Backend, MtpAdapter, int, int, int)}; {@code greedyOnly} promises that
     * every request is greedy, so on a device backend verification, KV compaction and the sampler head run on the
     * device ({@link DeviceForward#verifyOnDevice}, {@link DeviceForward#draftOnDevice}) and no logits or hidden
     * states cross to the host. {@code -Dmtp.device.verify=false} keeps them on the host (for comparisons).
     */
    public static Decoder create(String name, LlamaModel model, Backend backend, MtpAdapter adapter, int k,
                                 int context, int batchSize, boolean greedyOnly) {
        if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
            throw new IllegalArgumentException("--batch-size: expected 1.." + MAX_BATCH_SIZE + ", got " + batchSize);
        }
        int ctx = context > 0 ? Math.min(context, model.config().seqLen())
                : Math.min(model.config().seqLen(), DEFAULT_MAX_CONTEXT);
        // prompt chunk per sequence: 64 rows, shrinking with large batches so one forward stays within ~512 rows
        int promptRows = batchSize <= 8 ? 64 : Math.max(8, 512 / batchSize);
        switch (name) {
            case "autoregressive":
                return new AutoregressiveDecoder(onDevice(forward(model, backend, promptRows * batchSize, ctx,
                        batchSize, batchSize, 0), greedyOnly, null), batchSize);
            case "linear":
            case "quadratic":
                if (adapter == null) {
                    throw new EngineException("decoder " + name + " needs an MTP adapter (--adapter)");
                }
                if (k < 1 || k > adapter.k()) {
                    throw new EngineException("--k " + k + " is outside 1.." + adapter.k()
                            + " (the adapter was trained with " + adapter.k() + " mask tokens)");
                }
                int blockRows = name.equals("linear") ? 2 * k + 1 : (k + 1) * (k + 1);
                int rows = Math.max(promptRows, blockRows);
                BlockForward forward = forward(model, backend, rows * batchSize, ctx, (k + 1) * batchSize,
                        batchSize, adapter.config().rank());
                forward = onDevice(forward, greedyOnly, adapter);
                Drafter drafter = forward instanceof DeviceForward df && df.verdicts() != null ? df.deviceDrafter()
                        : new SamplerHeadDrafter(model, adapter, backend);
                return name.equals("linear") ? new LinearDecoder(forward, adapter, k, drafter, batchSize)
                        : new QuadraticDecoder(forward, adapter, k, drafter, batchSize);
            default:
                throw new IllegalArgumentException("--decoder: expected one of " + String.join(", ", NAMES)
                        + ", got \"" + name + "\"");
        }
    }

    /** Turns on device-side verification (and drafting with {@code adapter}) for greedy-only device forwards. */
    private static BlockForward onDevice(BlockForward forward, boolean greedyOnly, MtpAdapter adapter) {
        if (greedyOnly && forward instanceof DeviceForward df && Boolean.parseBoolean(
                System.getProperty("mtp.device.verify", "true"))) {
            df.verifyOnDevice(StopRule.of(df.model().config()).ids());
            if (adapter != null) {
                df.draftOnDevice(adapter);
            }
        }
        return forward;
    }

    /**
     * The forward for {@code backend}: device-resident on a {@link DeviceBackend} (GPU or emulator), else the host
     * {@link LlamaForward}.
     *
     * @param slots    sequences whose KV caches the forward holds at once (device KV slots)
     * @param loraRank the adapter's LoRA rank, 0 without one (for the device memory plan)
     */
    public static BlockForward forward(LlamaModel model, Backend backend, int rows, int context, int logitRows,
                                       int slots, int loraRank) {
        DeviceBackend device = backend.unwrap(DeviceBackend.class); // also when lent to a task by a wrapper
        if (device != null) {
            return device.forward(model, rows, context, logitRows, slots, loraRank);
        }
        return new LlamaForward(model, backend, rows, context, logitRows);
    }
}
