package io.mtpspark.jobs.generate;

import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.session.BackendChoice;
import io.mtpspark.engine.session.DecoderFactory;
import io.mtpspark.engine.session.TextGenerator;
import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.jobs.cli.GenerateOptions;
import io.mtpspark.jobs.schema.GenerationRecord;
import io.mtpspark.jobs.schema.PromptRow;
import io.mtpspark.jobs.stats.TaskIdentity;
import io.mtpspark.jobs.stats.TaskStats;
import io.mtpspark.jobs.stats.TaskStatsCollector;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Consumer;

/**
 * Generates one partition of prompts, without any Spark types, so unit tests can drive it directly. It creates the
 * task's backend and decoders, turns each {@link PromptRow} into a {@link GenerationRecord} lazily (one row per
 * {@code next()}, so a partition never sits in memory), turns every per-row problem into an {@code error} row, and
 * when the input is exhausted closes the backend and hands the task's {@link TaskStats} to the callback. A row
 * problem never ends the task; only the injected test failure and JVM errors do.
 *
 * <p>Speedup sample: with stride {@code round(1 / fraction)}, rows {@code stride/2, stride/2 + stride, …} are also
 * decoded by an autoregressive decoder on the same prompt and settings, and so is the task's last row when the task
 * was too short to reach a sampled row, so every non-empty task measures something. Sampling starts mid-stride
 * because the first rows of a JVM run before the JIT has compiled the forward pass, which would make whichever
 * decoder ran first look slow. A sampled row is decoded twice by each decoder, interleaved, and the faster run of
 * each counts (also as the row's {@code wall_ms}).
 */
public final class PartitionGenerator {
    private final GenerationSettings options;
    private final LoadedEngine engine;
    private final String configHash;
    private final TaskIdentity task;
    private final String device;
    private final int threads;

    public PartitionGenerator(GenerationSettings options, LoadedEngine engine, String configHash, TaskIdentity task,
                              String device, int threads) {
        this.options = options;
        this.engine = engine;
        this.configHash = configHash;
        this.task = task;
        this.device = device;
        this.threads = threads;
    }

    /** Lazily generated records for {@code rows}; {@code onFinish} receives the statistics after the last row. */
    public Iterator<GenerationRecord> generate(Iterator<PromptRow> rows, Consumer<TaskStats> onFinish) {
        return new Run(rows, onFinish);
    }

    private final class Run implements Iterator<GenerationRecord> {
        private final Iterator<PromptRow> rows;
        private final Consumer<TaskStats> onFinish;
        private final long start = System.nanoTime();
        private final Backend backend;
        private final TextGenerator generator;
        private final Decoder reference;
        private final TaskStatsCollector stats;
        private final int sampleStride;
        private final int context;
        private final GenerateOptions.FailurePlan failure;
        private int produced;
        private long sampled;
        private boolean finished;

        Run(Iterator<PromptRow> rows, Consumer<TaskStats> onFinish) {
            this.rows = rows;
            this.onFinish = onFinish;
            this.backend = BackendChoice.parse(options.backend()).create(threads);
            int k = options.k();
            this.context = options.context();
            Decoder decoder = DecoderFactory.create(options.decoder(), engine.bundle().model(), backend,
                    engine.adapter(), k, context);
            this.generator = new TextGenerator(engine.bundle(), decoder);
            this.reference = options.decoder().equals("autoregressive") ? decoder
                    : DecoderFactory.create("autoregressive", engine.bundle().model(), backend, null, 0, context);
            this.stats = new TaskStatsCollector(decoder.name(), k);
            this.sampleStride = options.speedupSample() <= 0 ? 0 : (int) Math.max(1, Math.round(1 / options.speedupSample()));
            this.failure = options.failure() != null && options.failure().partition() == task.partitionId()
                    && task.attempt() == 0 ? options.failure() : null;
        }

        @Override
        public boolean hasNext() {
            if (finished) {
                return false;
            }
            if (rows.hasNext()) {
                return true;
            }
            finish();
            return false;
        }

        @Override
        public GenerationRecord next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            if (failure != null && produced == failure.rows()) {
                backend.close();
                throw new IllegalStateException("injected failure: partition " + task.partitionId() + " attempt "
                        + task.attempt() + " after " + produced + " rows (--inject-failure)");
            }
            PromptRow row = rows.next();
            boolean sample = sampleStride > 0 && (produced % sampleStride == sampleStride / 2
                    || sampled == 0 && !rows.hasNext());
            produced++;
            return generateRow(row, sample);
        }

        private void finish() {
            finished = true;
            backend.close();
            double wallMs = (System.nanoTime() - start) / 1e6;
            onFinish.accept(stats.finish(task, backend.name(), device, wallMs, engine.modelFingerprint(),
                    engine.adapterFingerprint()));
        }

        private GenerationRecord generateRow(PromptRow row, boolean sample) {
            long t0 = System.nanoTime();
            Integer promptTokens = null;
            try {
                String prompt = decodePrompt(row.promptBytes());
                int[] ids = engine.bundle().tokenizer().encode(prompt);
                promptTokens = ids.length;
                int maxTokens = row.maxTokens() != null ? row.maxTokens() : options.maxTokens();
                if (maxTokens < 1) {
                    throw new IllegalArgumentException("max_tokens must be >= 1, got " + maxTokens);
                }
                double temperature = row.temperature() != null ? row.temperature() : options.temperature();
                long seed = row.seed() != null ? row.seed() : options.seed();
                SamplingOptions sampling = new SamplingOptions((float) temperature, options.topK(),
                        (float) options.topP(), seed);
                GenerationResult result = generator.decoder().generate(ids, maxTokens, sampling);
                GenerationResult ar = null;
                long mtpNanos = result.totalNanos();
                if (sample) {
                    // Interleaved repeats, fastest of two each: a single decode of a small model takes milliseconds,
                    // so one GC pause or a busy neighbour would otherwise decide the measured speedup.
                    ar = reference.generate(ids, maxTokens, sampling);
                    mtpNanos = Math.min(mtpNanos, generator.decoder().generate(ids, maxTokens, sampling).totalNanos());
                    GenerationResult ar2 = reference.generate(ids, maxTokens, sampling);
                    if (ar2.totalNanos() < ar.totalNanos()) {
                        ar = ar2;
                    }
                }
                String text = generator.decodeText(result);
                stats.succeeded(result);
                if (sample) {
                    sampled++;
                    stats.sampled(result.generatedIds().length, mtpNanos, ar.generatedIds().length, ar.totalNanos());
                }
                return new GenerationRecord(task.runId(), row.id(), row.domain(), promptHash(row.promptBytes()),
                        configHash, promptTokens, text, result.generatedIds().length, result.finishReason().label(),
                        null, generator.decoder().name(), options.k(), result.forwardPasses(),
                        result.tokensPerPass(), mtpNanos / 1e6, engine.modelFingerprint(),
                        engine.adapterFingerprint(), backend.name(), task.executorId(), task.attempt(), sample,
                        sample ? ar.generatedIds().length : null, sample ? ar.totalNanos() / 1e6 : null);
            } catch (RuntimeException e) {
                stats.failed(promptTokens);
                return new GenerationRecord(task.runId(), row.id(), row.domain(), promptHash(row.promptBytes()),
                        configHash, promptTokens, null, 0, GenerationRecord.ERROR, describe(e),
                        generator.decoder().name(), options.k(), 0, 0, (System.nanoTime() - t0) / 1e6,
                        engine.modelFingerprint(), engine.adapterFingerprint(), backend.name(), task.executorId(),
                        task.attempt(), false, null, null);
            }
        }
    }

    /** Strict UTF-8: a prompt with invalid bytes is an error row, never silently "repaired". */
    static String decodePrompt(byte[] bytes) {
        if (bytes == null) {
            throw new IllegalArgumentException("prompt is null");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("prompt is not valid UTF-8 (" + e.getMessage() + ")");
        }
        if (text.isBlank()) {
            throw new IllegalArgumentException("prompt is empty");
        }
        return text;
    }

    static String promptHash(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String describe(RuntimeException e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        boolean userError = e instanceof IllegalArgumentException
                || e instanceof io.mtpspark.engine.EngineException;
        return userError ? message : e.getClass().getSimpleName() + ": " + message;
    }
}
