package io.mtpspark.engine.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mtpspark.engine.decode.AdaptiveDecoder;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.goodput.GoodputPolicy;
import io.mtpspark.engine.session.DecoderFactory;
import io.mtpspark.engine.decode.GenerationRequest;
import io.mtpspark.engine.device.DeviceForward;
import io.mtpspark.engine.kvcache.SequenceCache;
import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.LlamaWeights;
import io.mtpspark.engine.model.RandomModel;
import io.mtpspark.engine.decode.DecodeConfig;
import io.mtpspark.engine.mtp.Drafter;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.OracleDrafter;
import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.llama.BlockBatch;
import io.mtpspark.engine.llama.BlockForward;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.session.ModelBundle;
import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.tensor.Roofline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code bench}: greedy tokens/s over a set of prompts, warm-up rounds excluded, median of repeated rounds. Like
 * llama2.c's {@code -n}, {@code --steps} counts positions (prompt included), so a prompt of p tokens generates up to
 * steps + 1 - p tokens. Prints a table ({@link BenchTable}), or with {@code --json} one JSON object; {@code --history}
 * appends that object, with commit and machine, to a JSONL file.
 */
@Command(name = "bench", description = "Measure generation speed (tokens/s), median of repeated runs.")
final class BenchCommand implements Callable<Integer> {
    static final List<String> DEFAULT_PROMPTS = List.of("Once upon a time", "Lily wanted to", "The little dog",
            "One day, a boy named Tim", "There was a big tree", "Sara and Ben went to the park", "The sun was");

    @Mixin
    EngineOptions engine;

    @Option(names = "--prompts", description = "file with one prompt per line (default: built-in story openings)")
    Path prompts;

    @Option(names = "--steps", defaultValue = "256", description = "positions per prompt, prompt included")
    int steps;

    @Option(names = "--warmup", defaultValue = "2", description = "warm-up rounds (not measured)")
    int warmup;

    @Option(names = "--repeats", defaultValue = "5", description = "measured rounds")
    int repeats;

    @Option(names = "--min-round-seconds", defaultValue = "1.0", description = "a round of a decoder decodes "
            + "its prompts again until it has lasted this long: a fast decoder's round on a small model is otherwise "
            + "~0.1 s, which a busy moment of a shared machine, a GC pause or a recompilation moves by tens of "
            + "percent (default: 1.0)")
    double minRoundSeconds;

    @Option(names = "--json", description = "print the result as one JSON object instead of a table")
    boolean json;

    @Option(names = "--history", description = "append the result as one JSON line to this file (default: none)")
    Path history;

    @Option(names = "--decoders", defaultValue = "autoregressive", split = ",",
            description = "decoders to compare on the same prompts, e.g. autoregressive,linear,quadratic,auto; "
                    + "NAME:K fixes k for that entry (linear:2,quadratic:8)")
    List<String> decoders;

    @Option(names = "--batch-size", defaultValue = "1", split = ",", description = "batch sizes to compare, e.g. "
            + "1,8,32 (sequences decoded together)")
    List<Integer> batchSizes;

    @Option(names = "--block-cost", description = "instead of generating, time one block forward of each row count "
            + "in --block-rows (with a prefilled cache of --block-cache positions) relative to one row")
    boolean blockCost;

    @Option(names = "--block-rows", defaultValue = "1,9,17,81", split = ",", description = "rows for --block-cost")
    List<Integer> blockRows;

    @Option(names = "--block-cache", defaultValue = "128", description = "cached positions for --block-cost")
    int blockCache;

    @Option(names = "--random-model", description = "benchmark a random model instead of --model weights: "
            + "dim,hidden,layers,heads,kv_heads,vocab (e.g. 1024,2816,8,16,4,32000; default: --model)")
    String randomModel;

    @Option(names = "--roofline", description = "also measure, with the same threads, the machine's read bandwidth, "
            + "FMA peak and in-cache matmul rate, and report each forward as a percentage of its roofline")
    boolean roofline;

    @Option(names = "--drafter", defaultValue = "adapter", description = "who proposes the drafts: adapter (its "
            + "sampler head) or oracle (each prompt's true greedy continuation, decoded first: every draft accepted, "
            + "to see what full acceptance buys here; the adapter's acceptance table is replaced by the oracle's) "
            + "(default: adapter)")
    String drafter;

    private Roofline limits;
    private ByteBuffer bandwidthBuffer;
    private Drafter drafts; // null: the adapter's sampler head

    @Override
    public Integer call() throws Exception {
        LlamaModel model;
        List<int[]> ids;
        if (randomModel != null) {
            model = randomModel(randomModel, engine.weightDType());
            ids = new ArrayList<>();
            java.util.SplittableRandom rng = new java.util.SplittableRandom(1);
            for (int i = 0; i < 4; i++) {
                int[] p = new int[8];
                p[0] = 1;
                for (int j = 1; j < p.length; j++) {
                    p[j] = 3 + rng.nextInt(model.config().vocabSize() - 3);
                }
                ids.add(p);
            }
        } else {
            List<String> texts = prompts == null ? DEFAULT_PROMPTS
                    : Files.readAllLines(prompts, StandardCharsets.UTF_8).stream().filter(s -> !s.isBlank()).toList();
            ModelBundle bundle = engine.load();
            model = bundle.model();
            ids = texts.stream().map(bundle.tokenizer()::encode).toList();
        }
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode out = mapper.createObjectNode();
        try (Backend backend = engine.backendChoice().create(engine.threads)) {
            // without --adapter, MTP timings use a random adapter: same cost, tokens/pass ~1 (its acceptance table,
            // for auto, is the expectation of uniform guesses: 1 + 1/vocab tokens per pass; auto refines it online)
            MtpAdapter adapter = engine.adapter != null ? engine.loadAdapter(model)
                    : randomAdapter(model, Math.max(1, engine.k > 0 ? engine.k : 8));
            out.put("adapter", engine.adapter != null ? engine.adapter.toString() : "random(rank 16)");
            out.put("model", randomModel != null ? "random:" + randomModel : model.source());
            out.put("backend", backend.name());
            if (roofline) {
                measureRoofline(out, backend);
            }
            if (blockCost) {
                blockCost(out, model, backend, adapter);
            } else {
                generation(out, model, ids, backend, adapter);
            }
        }
        String line = mapper.writeValueAsString(out);
        System.out.print(json ? line + System.lineSeparator() : BenchTable.render(out));
        if (history != null) {
            ObjectNode h = mapper.createObjectNode();
            h.put("time", Instant.now().toString());
            h.put("commit", gitCommit());
            h.put("machine", machine());
            h.put("command", "bench " + String.join(" ", commandLine()));
            // the JVM's own options (heap, JIT flags) change what a figure means as much as bench's options do
            h.put("jvm_options", String.join(" ",
                    java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()));
            h.set("figures", out);
            Files.writeString(history, mapper.writeValueAsString(h) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        return 0;
    }

    private void generation(ObjectNode out, LlamaModel model, List<int[]> ids, Backend backend, MtpAdapter adapter) {
        switch (drafter) {
            case "adapter" -> drafts = null;
            case "oracle" -> {
                int maxNew = ids.stream().mapToInt(p -> Math.max(1, steps + 1 - p.length)).max().orElse(1);
                drafts = OracleDrafter.decodedBy(DecoderFactory.create("autoregressive", model, backend, null, 0,
                        engine.context, Math.min(64, ids.size())), ids, maxNew);
                adapter = adapter.withAcceptance(OracleDrafter.acceptance(DecodeConfig.candidates(
                        List.of(1, 2, 4, 8, adapter.k()), Integer.MAX_VALUE)));
            }
            default -> throw new IllegalArgumentException("--drafter: expected adapter or oracle, got \"" + drafter
                    + "\"");
        }
        out.put("drafter", drafter);
        out.put("prompts", ids.size());
        out.put("steps", steps);
        out.put("warmup", warmup);
        out.put("repeats", repeats);
        if (!(minRoundSeconds >= 0)) {
            throw new IllegalArgumentException("--min-round-seconds: expected 0 or more, got " + minRoundSeconds);
        }
        out.put("min_round_seconds", minRoundSeconds);
        if (batchSizes.size() == 1) {
            out.put("batch_size", batchSizes.get(0));
            measureDecoders(out, model, ids, backend, adapter, batchSizes.get(0));
            return;
        }
        ObjectNode batches = out.putObject("batches");
        for (int b : batchSizes) {
            measureDecoders(batches.putObject(String.valueOf(b)), model, ids, backend, adapter, b);
        }
    }

    /**
     * Every decoder at one batch size: a round decodes max(prompts, 2 × batch) sequences (the prompts, cycled) with
     * continuous batching, so slots refill at least once; tokens/s is generated tokens over the round's wall time.
     * Rounds alternate between the decoders, each round starting one decoder further on, so every decoder runs in
     * every position of the order equally often; {@code auto} calibrates before the first measured round.
     */
    private void measureDecoders(ObjectNode out, LlamaModel model, List<int[]> ids, Backend backend,
                                 MtpAdapter adapter, int batch) {
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < Math.max(ids.size(), 2 * batch); i++) {
            int[] p = ids.get(i % ids.size());
            requests.add(new GenerationRequest(p, Math.max(1, steps + 1 - p.length), SamplingOptions.GREEDY));
        }
        out.put("sequences_per_round", requests.size());
        ObjectNode decs = out.putObject("decoders");
        // rounds interleaved across decoders (round r of every decoder, then round r + 1), so a busy moment of a
        // shared machine hits every decoder alike instead of one decoder's whole measurement
        List<Decoder> decoderList = new ArrayList<>();
        for (String entry : decoders) {
            decoderList.add(benchDecoder(entry, model, backend, adapter, batch));
        }
        double[][] rounds = new double[decoderList.size()][repeats];
        long[] tokens = new long[decoderList.size()];
        long[] passes = new long[decoderList.size()];
        int[] setsPerRound = new int[decoderList.size()];
        long minRoundNanos = (long) (minRoundSeconds * 1e9);
        for (int round = -warmup; round < repeats; round++) {
            if (round == 0) { // auto's calibration belongs to its start-up, not to a measured round
                for (Decoder d : decoderList) {
                    if (d instanceof AdaptiveDecoder auto && auto.chooser() instanceof GoodputPolicy p) {
                        p.calibrateNow();
                    }
                    if (d instanceof AdaptiveDecoder auto) {
                        auto.resetStatistics(); // report the measured rounds, not the warm-up's cold, uncalibrated steps
                    }
                }
            }
            for (int slot = 0; slot < decoderList.size(); slot++) {
                // the order rotates from round to round: with a fixed order the decoder run right after the
                // autoregressive one read 5-7% slower than the same configuration run after another (oracle drafts,
                // batch 1, dim-1024 model: auto ran linear k=8 on 98% of its steps and read 0.93x fixed linear k=8
                // right after autoregressive, 1.01x one place later; docs/BENCHMARKS.md, issue 12)
                int d = Math.floorMod(slot + round, decoderList.size());
                long t0 = System.nanoTime();
                long nanos;
                long generated = 0;
                long p = 0;
                int sets = 0;
                do { // the same requests again until the round has lasted --min-round-seconds
                    for (GenerationResult r : decoderList.get(d).generateAll(requests)) {
                        generated += r.generatedIds().length;
                        p += r.forwardPasses();
                    }
                    sets++;
                    nanos = System.nanoTime() - t0;
                } while (nanos < minRoundNanos);
                if (round >= 0) {
                    rounds[d][round] = generated * 1e9 / nanos;
                    tokens[d] = generated / sets;
                    passes[d] = p / sets;
                    setsPerRound[d] = sets;
                }
            }
        }
        double arTokensPerSecond = 0;
        for (int d = 0; d < decoderList.size(); d++) {
            if (decoderList.get(d).name().equals("autoregressive") && arTokensPerSecond == 0) {
                arTokensPerSecond = median(rounds[d]);
            }
        }
        for (int d = 0; d < decoderList.size(); d++) {
            Decoder decoder = decoderList.get(d);
            String name = decoder.name();
            ObjectNode dec = decs.putObject(decoders.get(d));
            double median = median(rounds[d]);
            if (!name.equals("autoregressive")) {
                dec.put("k", decoder.k());
            }
            if (decoder instanceof AdaptiveDecoder auto) {
                describeAuto(dec, auto);
            }
            dec.put("request_sets_per_round", setsPerRound[d]);
            dec.put("generated_tokens_per_request_set", tokens[d]);
            dec.put("forward_passes_per_request_set", passes[d]);
            dec.put("tokens_per_pass", tokens[d] / (double) passes[d]);
            dec.put("tokens_per_second_median", median);
            if (arTokensPerSecond > 0) {
                dec.put("speedup_vs_autoregressive", median / arTokensPerSecond);
            }
            if (limits != null && batch == 1 && name.equals("autoregressive")) {
                decodeRoofline(dec, model, median);
            }
            ArrayNode all = dec.putArray("tokens_per_second_rounds");
            for (double r : rounds[d]) {
                all.add(Math.round(r * 10) / 10.0);
            }
        }
    }

    private static MtpAdapter randomAdapter(LlamaModel model, int k) {
        List<DecodeConfig> configs = DecodeConfig.candidates(List.of(1, 2, 4, 8, k), Integer.MAX_VALUE).stream()
                .filter(c -> c.k() <= k).toList();
        // linear passes after a rejection carry no drafts: k + 1 rows
        return MtpAdapter.random(model, k, 16, 1).withAcceptance(io.mtpspark.engine.mtp.AcceptanceTable.of(
                "random adapter (uniform guesses)", configs, c -> 1 + 1.0 / model.config().vocabSize(),
                c -> c.layout() == io.mtpspark.engine.decode.BlockLayout.LINEAR ? c.k() + 1 : c.fullRows()));
    }

    /** A decoder for one {@code --decoders} entry: a name, or NAME:K for a fixed k. */
    private Decoder benchDecoder(String entry, LlamaModel model, Backend backend, MtpAdapter adapter, int batch) {
        int colon = entry.indexOf(':');
        if (colon < 0) { // bench is greedy
            return DecoderFactory.create(entry, model, backend, adapter, engine.effectiveK(adapter), engine.context,
                    batch, "local", true, drafts);
        }
        int k;
        try {
            k = Integer.parseInt(entry.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--decoders: expected NAME or NAME:K, got \"" + entry + "\"");
        }
        return DecoderFactory.create(entry.substring(0, colon), model, backend, adapter, k, engine.context, batch,
                "local", true, drafts);
    }

    /**
     * What {@code auto} did over the measured rounds (its statistics are reset after the warm-up rounds): steps per
     * configuration, predicted vs measured tokens/s.
     */
    private static void describeAuto(ObjectNode dec, AdaptiveDecoder auto) {
        ObjectNode steps = dec.putObject("steps_by_config");
        auto.stepsByConfig().forEach(steps::put);
        dec.put("predicted_forward_tokens_per_second", auto.predictedTokensPerSecond());
        dec.put("measured_forward_tokens_per_second", auto.measuredTokensPerSecond());
        if (auto.chooser() instanceof GoodputPolicy p) {
            dec.put("reason", p.reason(auto.batchSize()));
            if (p.cost() != null) {
                try {
                    dec.set("cost_model", new ObjectMapper().readTree(p.cost().toJson()));
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException(e); // toJson writes valid JSON
                }
            }
        }
    }

    /**
     * Cost of one block forward of n rows relative to one row, after a prefilled cache. Rows beyond the first are
     * laid out as in quadratic decoding when n is a square (k+1)², otherwise as a causal run with the last rows
     * gated as masks: what linear decoding (k+1, 2k+1 rows) sends.
     */
    private void blockCost(ObjectNode out, LlamaModel model, Backend backend, MtpAdapter adapter) {
        int maxRows = blockRows.stream().mapToInt(Integer::intValue).max().orElse(1);
        int rowsMax = Math.max(maxRows, blockCache);
        BlockForward forward = DecoderFactory.forward(model, backend, rowsMax,
                Math.min(model.config().seqLen(), blockCache + maxRows + 8), rowsMax, 1,
                adapter == null ? 0 : adapter.config().rank());
        SequenceCache cache = forward.newCache(Math.min(model.config().seqLen(), blockCache + maxRows + 8)
                + rowsMax);
        BlockBatch batch = new BlockBatch(rowsMax, 1);
        int vocab = model.config().vocabSize();
        int[] prefix = new int[blockCache];
        int[] prefixPos = new int[blockCache];
        for (int i = 0; i < blockCache; i++) {
            prefix[i] = 3 + i % (vocab - 3);
            prefixPos[i] = i;
        }
        batch.add(prefix, prefixPos, null, blockCache, AttentionMask.CAUSAL, cache, null, 0);
        forward.forward(batch, null);
        out.put("cache_positions", blockCache);
        out.put("repeats", repeats);
        ObjectNode rows = out.putObject("block_ms");
        double one = 0;
        double oneMin = 0;
        for (int n : blockRows) {
            int[] tokens = new int[n];
            int[] pos = new int[n];
            boolean[] gate = new boolean[n];
            int k1 = (int) Math.round(Math.sqrt(n));
            boolean square = k1 * k1 == n && n > 1;
            boolean[] local = new boolean[n * n];
            int real = 0;
            for (int i = 0; i < n; i++) {
                boolean mask = square ? i % k1 != 0 : i > n / 2;
                int g = square ? i / k1 : i;
                int j = square ? i % k1 : i - n / 2;
                tokens[i] = mask && adapter != null ? MtpAdapter.maskId(vocab, 1 + (j - 1) % adapter.k())
                        : 3 + i % (vocab - 3);
                pos[i] = blockCache + (square ? g + j : i);
                gate[i] = mask && adapter != null;
                real += mask ? 0 : 1;
                for (int c = 0; c < n; c++) {
                    local[i * n + c] = square ? (c % k1 == 0 ? c / k1 <= g : c / k1 == g && j >= c % k1) : c <= i;
                }
            }
            int[] realRows = new int[real];
            for (int i = 0, r = 0; i < n; i++) {
                if (!(square ? i % k1 != 0 : i > n / 2)) {
                    realRows[r++] = i;
                }
            }
            AttentionMask mask = AttentionMask.cachePlusLocal(local, n);
            double[] peaks = limits != null ? new double[repeats] : null;
            double[] bandwidths = limits != null ? new double[repeats] : null;
            double[] times = timeBlock(forward, batch, cache, adapter, tokens, pos, gate, n, mask, realRows, real,
                    peaks, bandwidths, backend);
            double med = median(times);
            double min = Arrays.stream(times).min().orElse(med);
            if (n == 1) {
                one = med;
                oneMin = min;
            }
            ObjectNode r = rows.putObject(String.valueOf(n));
            r.put("median_ms", med);
            // the fastest round too: on a shared machine it is the one least slowed by other processes, the same
            // statistic the roofline's best-of passes use
            r.put("min_ms", min);
            ArrayNode all = r.putArray("rounds_ms"); // every measured round, in order: a bimodal host shows here
            for (double t : times) {
                all.add(t);
            }
            if (one > 0) {
                r.put("relative_to_1_row", med / one);
                r.put("min_relative_to_1_row", min / oneMin);
            }
            if (limits != null) {
                blockRoofline(r, model, n, real, med / 1e3, "");
                blockRoofline(r, model, n, real, min / 1e3, "min_");
                paired(r, model, n, real, times, peaks, bandwidths);
            }
            if (forward instanceof DeviceForward df && df.graphs()) {
                // the same block queued launch by launch (graphs off): what CUDA graphs save on this row count
                df.graphs(false);
                double off = median(timeBlock(forward, batch, cache, adapter, tokens, pos, gate, n, mask, realRows,
                        real, null, null, backend));
                df.graphs(true);
                r.put("graphs_off_median_ms", off);
                r.put("graphs_on_vs_off", med / off);
            }
        }
    }

    /**
     * Per measured round, the mean of enough forwards of the block to fill ~50 ms; warm-up rounds are discarded.
     * With {@code peaks} and {@code bandwidths}, each measured round's FMA peak and read bandwidth too: the mean of
     * a quick measurement just before the round and one just after it (see {@link Roofline#quickFmaPeak}).
     */
    private double[] timeBlock(BlockForward forward, BlockBatch batch, SequenceCache cache, MtpAdapter adapter,
                               int[] tokens, int[] pos, boolean[] gate, int n, AttentionMask mask, int[] realRows,
                               int real, double[] peaks, double[] bandwidths, Backend backend) {
        int perRound = 1;
        double[] times = new double[repeats];
        double before = 0;
        double bwBefore = 0;
        for (int round = -warmup; round < repeats; round++) {
            if (peaks != null && round >= 0 && before == 0) {
                before = Roofline.quickFmaPeak(backend);
                bwBefore = Roofline.quickBandwidth(backend, bandwidthBuffer());
            }
            long t0 = System.nanoTime();
            for (int it = 0; it < perRound; it++) {
                batch.clear();
                batch.add(tokens, pos, gate, n, mask, cache, realRows, real);
                forward.forward(batch, adapter);
                cache.truncate(blockCache);
            }
            long t = System.nanoTime() - t0;
            if (round >= 0) {
                times[round] = t / 1e6 / perRound;
                if (peaks != null) {
                    double after = Roofline.quickFmaPeak(backend);
                    double bwAfter = Roofline.quickBandwidth(backend, bandwidthBuffer());
                    peaks[round] = (before + after) / 2;
                    bandwidths[round] = (bwBefore + bwAfter) / 2;
                    before = after; // the next round's limits before it
                    bwBefore = bwAfter;
                }
            } else {
                perRound = (int) Math.max(1, Math.min(100_000, 50_000_000L * perRound / Math.max(1, t)));
            }
        }
        return times;
    }

    /** The machine's limits with this backend's threads, measured before the forwards they judge. */
    private void measureRoofline(ObjectNode out, Backend backend) {
        int threads = engine.threads > 0 ? engine.threads : Runtime.getRuntime().availableProcessors();
        limits = Roofline.measure(backend, threads);
        ObjectNode r = out.putObject("roofline");
        r.put("threads", threads);
        r.put("read_gb_per_s", limits.readBytesPerSecond() / 1e9);
        r.put("fma_peak_gflops", limits.fmaFlopsPerSecond() / 1e9);
        r.put("in_cache_matmul_gflops", limits.matmulFlopsPerSecond() / 1e9);
        r.put("bandwidth_buffer_mib", limits.bufferBytes() >> 20);
    }

    /** Matrix bytes one forward reads: every layer's seven matrices and the classifier (embedding rows ignored). */
    private static long forwardWeightBytes(LlamaModel model) {
        LlamaWeights w = model.weights();
        long bytes = w.matrixBytes();
        return w.classifier() == w.tokenEmbedding() ? bytes : bytes - w.tokenEmbedding().byteSize();
    }

    /**
     * FLOPs of a forward of {@code rows} rows with {@code logitRows} logit rows after {@code cached} positions:
     * 2 per weight per row through the layers, 2 per classifier weight per logit row, and attention's scores and
     * weighted sums over at most cached + rows columns (LoRA branches not counted).
     */
    private static double forwardFlops(LlamaModel model, int rows, int logitRows, int cached) {
        LlamaWeights w = model.weights();
        LlamaConfig c = model.config();
        long layerParams = 0;
        for (var l : w.layers()) {
            layerParams += l.wq().elements() + l.wk().elements() + l.wv().elements() + l.wo().elements()
                    + l.wGate().elements() + l.wUp().elements() + l.wDown().elements();
        }
        double attention = 4.0 * c.nLayers() * rows * (double) c.qDim() * (cached + rows);
        return 2.0 * rows * layerParams + 2.0 * logitRows * w.classifier().elements() + attention;
    }

    /** Roofline figures of one block forward of {@code seconds}, each field name prefixed with {@code prefix}. */
    private void blockRoofline(ObjectNode r, LlamaModel model, int rows, int logitRows, double seconds,
                               String prefix) {
        long bytes = forwardWeightBytes(model);
        double flops = forwardFlops(model, rows, logitRows, blockCache);
        r.put(prefix + "weight_gb_per_s", bytes / seconds / 1e9);
        r.put(prefix + "gflops", flops / seconds / 1e9);
        r.put(prefix + "pct_of_read_bandwidth", 100 * bytes / seconds / limits.readBytesPerSecond());
        r.put(prefix + "pct_of_in_cache_matmul", 100 * flops / seconds / limits.matmulFlopsPerSecond());
        r.put(prefix + "pct_of_fma_peak", 100 * flops / seconds / limits.fmaFlopsPerSecond());
        r.put(prefix + "pct_of_roofline", 100 * limits.efficiency(bytes, flops, seconds, true));
    }

    /**
     * The block's FLOP rate against the FMA peak, and its weight bytes per second against the read bandwidth,
     * measured around each round ({@code peaks}, {@code bandwidths}, see {@link #timeBlock}): the median over rounds
     * of each round's ratio, and the medians of those limits.
     */
    private void paired(ObjectNode r, LlamaModel model, int rows, int logitRows, double[] times, double[] peaks,
                        double[] bandwidths) {
        double flops = forwardFlops(model, rows, logitRows, blockCache);
        long bytes = forwardWeightBytes(model);
        double[] ofPeak = new double[times.length];
        double[] ofBandwidth = new double[times.length];
        for (int i = 0; i < times.length; i++) {
            ofPeak[i] = 100 * flops / (times[i] / 1e3) / peaks[i];
            ofBandwidth[i] = 100 * bytes / (times[i] / 1e3) / bandwidths[i];
        }
        r.put("paired_fma_peak_gflops", median(peaks) / 1e9);
        r.put("paired_pct_of_fma_peak", median(ofPeak));
        r.put("paired_read_gb_per_s", median(bandwidths) / 1e9);
        r.put("paired_pct_of_read_bandwidth", median(ofBandwidth));
    }

    /** The buffer the paired bandwidth passes read, allocated on first use (512 MiB of direct memory). */
    private ByteBuffer bandwidthBuffer() {
        if (bandwidthBuffer == null) {
            bandwidthBuffer = Roofline.bandwidthBuffer(Roofline.defaultBufferBytes());
        }
        return bandwidthBuffer;
    }

    /** Batch-1 decoding: each token is one 1-row forward, so weight bytes/s = tokens/s × bytes per forward. */
    private void decodeRoofline(ObjectNode dec, LlamaModel model, double tokensPerSecond) {
        long bytes = forwardWeightBytes(model);
        dec.put("weight_bytes_per_token", bytes);
        dec.put("weight_gb_per_s", tokensPerSecond * bytes / 1e9);
        dec.put("pct_of_read_bandwidth", 100 * tokensPerSecond * bytes / limits.readBytesPerSecond());
    }

    private static double median(double[] v) {
        double[] sorted = v.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    /** The random model of a {@code --random-model} spec (seed 1), weights in {@code weights} (null: F32). */
    static LlamaModel randomModel(String spec, DType weights) {
        String[] f = spec.split(",");
        if (f.length != 6) {
            throw new IllegalArgumentException("--random-model: expected dim,hidden,layers,heads,kv_heads,vocab, got \""
                    + spec + "\"");
        }
        int[] v = Arrays.stream(f).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
        LlamaConfig c = new LlamaConfig("LlamaForCausalLM", v[0], v[1], v[2], v[3], v[4], v[5], 4096, v[0] / v[3],
                10000.0, 1e-5f, null, false, false, 1, 2, false);
        return RandomModel.create(c, 1, weights == null ? DType.F32 : weights);
    }

    private List<String> commandLine() {
        List<String> args = new ArrayList<>();
        if (engine.model != null) {
            args.addAll(List.of("--model", engine.model.toString()));
        }
        args.addAll(List.of("--decoders",
                String.join(",", decoders), "--k", String.valueOf(engine.k), "--backend",
                engine.backend, "--threads", String.valueOf(engine.threads), "--steps", String.valueOf(steps),
                "--batch-size", String.join(",", batchSizes.stream().map(String::valueOf).toList()),
                "--warmup", String.valueOf(warmup), "--repeats", String.valueOf(repeats)));
        if (engine.context > 0) {
            args.addAll(List.of("--context", String.valueOf(engine.context)));
        }
        if (prompts != null) {
            args.addAll(List.of("--prompts", prompts.toString()));
        }
        if (engine.adapter != null) {
            args.addAll(List.of("--adapter", engine.adapter.toString()));
        }
        if (randomModel != null) {
            args.addAll(List.of("--random-model", randomModel));
        }
        if (engine.weightsDType != null && !engine.weightsDType.equals("stored")) {
            args.addAll(List.of("--weights-dtype", engine.weightsDType));
        }
        if (roofline) {
            args.add("--roofline");
        }
        if (blockCost) {
            args.addAll(List.of("--block-cost", "--block-rows",
                    String.join(",", blockRows.stream().map(String::valueOf).toList()), "--block-cache",
                    String.valueOf(blockCache)));
        }
        return args;
    }

    static String gitCommit() {
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "--short", "HEAD").redirectErrorStream(true).start();
            String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 ? s : "unknown";
        } catch (Exception e) {
            return "unknown";
        }
    }

    static String machine() {
        String cpu = "unknown cpu";
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    cpu = l.substring(l.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (Exception ignored) {
            // not Linux: keep the generic label
        }
        return cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores, Java "
                + System.getProperty("java.version");
    }
}
