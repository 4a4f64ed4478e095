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

import io.mtpspark.engine.decode.AdaptiveDecoder;
import io.mtpspark.engine.decode.DecodeConfig;
import io.mtpspark.engine.goodput.CostCalibrator;
import io.mtpspark.engine.goodput.GoodputPolicy;
import io.mtpspark.engine.model.ModelFingerprint;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.logging.Logger;

/**
 * Builds a {@link Decoder} by name ({@code auto}, {@code autoregressive}, {@code linear}, {@code quadratic}) and batch
 * size, the way the CLI and the Spark job choose one. MTP decoders need an adapter and a k in 1..K of that adapter.
 * {@code auto} builds an {@link AdaptiveDecoder} driven by the {@link GoodputPolicy}: after a second of autoregressive
 * decoding (JIT warm-up) the forward's cost is calibrated on the backend (once per JVM and model, backend and
 * device), the acceptance prior is the adapter's table; without an adapter, an acceptance table or a working
 * calibration it decodes autoregressively and logs why.
 */
public final class DecoderFactory {
    public static final List<String> NAMES = List.of("auto", "autoregressive", "linear", "quadratic");
    /** Rows one forward may hold over all sequences for {@code auto} (bounds the scratch of big batches). */
    static final int AUTO_MAX_FORWARD_ROWS = 2048;
    /** Autoregressive decoding before {@code auto} calibrates: compiles the forward, so the JIT is not timed. */
    public static final long AUTO_WARM_UP_NANOS = 1_000_000_000L;
    private static final Logger LOG = Logger.getLogger(DecoderFactory.class.getName());
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
        return create(name, model, backend, adapter, k, context, batchSize, "local", false);
    }

    /**
     * As {@link #create(String, LlamaModel, Backend, MtpAdapter, int, int, int)}, with {@code device} naming where
     * the backend runs (part of the key {@code auto}'s calibration is cached under).
     */
    public static Decoder create(String name, LlamaModel model, Backend backend, MtpAdapter adapter, int k,
                                 int context, int batchSize, String device) {
        return create(name, model, backend, adapter, k, context, batchSize, device, false);
    }

    /**
     * As {@link #create(String, LlamaModel, Backend, MtpAdapter, int, int, int)}; {@code greedyOnly} promises that
     * every request is greedy, so on a device backend verification, KV compaction and the sampler head run on the
     * device ({@link DeviceForward#verifyOnDevice}, {@link DeviceForward#draftOnDevice}) and no logits or hidden
     * states cross to the host. {@code -Dmtp.device.verify=false} keeps them on the host (for comparisons).
     */
    public static Decoder create(String name, LlamaModel model, Backend backend, MtpAdapter adapter, int k,
                                 int context, int batchSize, boolean greedyOnly) {
        return create(name, model, backend, adapter, k, context, batchSize, "local", greedyOnly);
    }

    /** The general form: {@code device} names where the backend runs, {@code greedyOnly} as above. */
    public static Decoder create(String name, LlamaModel model, Backend backend, MtpAdapter adapter, int k,
                                 int context, int batchSize, String device, boolean greedyOnly) {
        return create(name, model, backend, adapter, k, context, batchSize, device, greedyOnly, null);
    }

    /**
     * As above with {@code drafter} proposing the drafts instead of the adapter's sampler head (null: the sampler
     * head): benchmarks use an {@link io.mtpspark.engine.mtp.OracleDrafter} to see what full acceptance buys.
     */
    public static Decoder create(String name, LlamaModel model, Backend backend, MtpAdapter adapter, int k,
                                 int context, int batchSize, String device, boolean greedyOnly, Drafter drafter) {
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
            case "auto":
                return auto(model, backend, adapter, k, ctx, batchSize, promptRows, device, greedyOnly, drafter);
            case "autoregressive":
                return new AutoregressiveDecoder(onDevice(forward(model, backend, promptRows * batchSize, ctx,
                        batchSize, batchSize, 0), greedyOnly, null), batchSize);
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
                BlockForward forward = forward(model, backend, rows * batchSize, ctx, (k + 1) * batchSize,
                        batchSize, adapter.config().rank());
                forward = onDevice(forward, greedyOnly, adapter);
                Drafter drafts = drafter != null ? drafter
                        : forward instanceof DeviceForward df && df.verdicts() != null ? df.deviceDrafter()
                        : new SamplerHeadDrafter(model, adapter, backend);
                return name.equals("linear") ? new LinearDecoder(forward, adapter, k, drafts, batchSize)
                        : new QuadraticDecoder(forward, adapter, k, drafts, batchSize);
            default:
                throw new IllegalArgumentException("--decoder: expected one of " + String.join(", ", NAMES)
                        + ", got \"" + name + "\"");
        }
    }

    private static Decoder autoregressive(LlamaModel model, Backend backend, int ctx, int batchSize, int promptRows,
                                          boolean greedyOnly) {
        return new AutoregressiveDecoder(onDevice(forward(model, backend, promptRows * batchSize, ctx, batchSize,
                batchSize, 0), greedyOnly, null), batchSize);
    }

    /**
     * The k values {@code auto} considers: 1, 2, 4, 8 and the adapter's K, up to {@code kCap} (the user's --k, or
     * K). Fewer k keep the calibration short; the cost between them is smooth.
     */
    static List<Integer> autoKs(int adapterK, int kCap) {
        TreeSet<Integer> ks = new TreeSet<>(List.of(1, 2, 4, 8, adapterK));
        ks.removeIf(x -> x > Math.min(adapterK, kCap));
        return new ArrayList<>(ks);
    }

    private static Decoder auto(LlamaModel model, Backend backend, MtpAdapter adapter, int k, int ctx, int batchSize,
                                int promptRows, String device, boolean greedyOnly, Drafter drafter) {
        if (adapter == null) {
            LOG.info("--decoder auto: no adapter given, decoding autoregressively");
            return autoregressive(model, backend, ctx, batchSize, promptRows, greedyOnly);
        }
        if (adapter.acceptance() == null) {
            LOG.warning("--decoder auto: the adapter has no acceptance table (eval --write-acceptance records one), "
                    + "so MTP gains cannot be predicted; decoding autoregressively");
            return autoregressive(model, backend, ctx, batchSize, promptRows, greedyOnly);
        }
        int kCap = k > 0 ? k : adapter.k();
        int rowCap = Math.max(1, AUTO_MAX_FORWARD_ROWS / batchSize);
        List<DecodeConfig> configs = GoodputPolicy.measured(DecodeConfig.candidates(autoKs(adapter.k(), kCap), rowCap),
                adapter.acceptance());
        int maxRows = configs.stream().mapToInt(DecodeConfig::fullRows).max().orElse(1);
        int maxK = configs.stream().mapToInt(DecodeConfig::k).max().orElse(0);
        if (maxK == 0) {
            LOG.warning("--decoder auto: no MTP configuration of the adapter's acceptance table fits " + rowCap
                    + " rows per sequence at batch size " + batchSize + "; decoding autoregressively");
            return autoregressive(model, backend, ctx, batchSize, promptRows, greedyOnly);
        }
        // host verification: the device verifier and sampler head serve one fixed k and layout, auto switches
        BlockForward forward = forward(model, backend, Math.max(promptRows, maxRows) * batchSize, ctx,
                (maxK + 1) * batchSize, 2 * batchSize, adapter.config().rank()); // calibration caches beside the batch's
        TreeSet<Integer> shapes = new TreeSet<>();
        configs.forEach(c -> {
            shapes.add(c.fullRows());
            if (c.layout() == io.mtpspark.engine.decode.BlockLayout.LINEAR) {
                shapes.add(c.k() + 1); // a linear pass after a rejection
            }
        });
        int[] rows = shapes.stream().mapToInt(Integer::intValue).toArray();
        int[] logits = new int[rows.length];
        for (int j = 0; j < rows.length; j++) {
            int r = rows[j];
            // real rows (logits) per shape: the most any configuration of that size verifies
            logits[j] = configs.stream().filter(c -> c.fullRows() == r || c.k() + 1 == r && !c.autoregressive()
                    && c.layout() == io.mtpspark.engine.decode.BlockLayout.LINEAR)
                    .mapToInt(c -> c.fullRows() == r ? c.k() + 1 : 1).max().orElse(1);
        }
        // the most tokens per pass a configuration with at least rows[j] rows can bring (prunes the calibration)
        double[] maxTokensFrom = new double[rows.length];
        for (int j = 0; j < rows.length; j++) {
            int r = rows[j];
            maxTokensFrom[j] = configs.stream().filter(c -> !c.autoregressive() && c.fullRows() >= r)
                    .mapToDouble(c -> adapter.acceptance().tokens(c.label())).max().orElse(1);
        }
        String key = calibrationKey(model, backend, device);
        GoodputPolicy policy = new GoodputPolicy(configs, adapter.acceptance(), () -> CostCalibrator.cached(key,
                forward, adapter, batchSize, rows, logits, maxTokensFrom, CostCalibrator.DEFAULT_BUDGET_NANOS),
                () -> CostCalibrator.isCached(key, batchSize, rows), AUTO_WARM_UP_NANOS);
        return new AdaptiveDecoder(forward, adapter, configs,
                drafter != null ? drafter : new SamplerHeadDrafter(model, adapter, backend), batchSize, policy);
    }

    /**
     * The key {@code auto}'s cost model is cached under in this JVM ({@link CostCalibrator#cached}): the model's
     * fingerprint, the backend and the device, the three things a forward's cost depends on.
     */
    public static String calibrationKey(LlamaModel model, Backend backend, String device) {
        return ModelFingerprint.of(model) + " / " + backend.name() + " / " + device;
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
