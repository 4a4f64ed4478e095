package io.mtpspark.jobs.generate;

import io.mtpspark.engine.decode.AdaptiveDecoder;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.GenerationRequest;
import io.mtpspark.engine.decode.GenerationResult;
import io.mtpspark.engine.decode.InterleavedRun;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.session.BackendChoice;
import io.mtpspark.engine.session.DecoderFactory;
import io.mtpspark.engine.session.GenerationChecks;
import io.mtpspark.engine.session.TextGenerator;
import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.jobs.chat.ChatSettings;
import io.mtpspark.jobs.chat.RowPrompts;
import io.mtpspark.jobs.cli.GenerateOptions;
import io.mtpspark.jobs.schema.GenerationRecord;
import io.mtpspark.jobs.schema.PromptRow;
import io.mtpspark.jobs.stats.TaskIdentity;
import io.mtpspark.jobs.stats.TaskStats;
import io.mtpspark.jobs.stats.TaskStatsCollector;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Generates one partition of prompts, without any Spark types, so unit tests can drive it directly. It creates the
 * task's backend and decoders and turns each {@link PromptRow} into a {@link GenerationRecord}, decoding up to
 * {@code --batch-size} rows together (continuous batching: a finished row's slot takes the next row at once). Rows
 * are pulled from the input only to fill a free slot, so a partition never sits in memory: the batch in flight plus
 * one error record or one step's finished records is all it holds. Records come out in completion order, not input
 * order (a short generation admitted after a long one leaves first); each carries its row id, and nothing
 * downstream depends on the order. When the input is exhausted and the batch drained, the backend is closed and the
 * task's {@link TaskStats} go to the callback.
 *
 * <p>A row problem never ends the task. A row whose prompt is null, not UTF-8, empty or too long for the context, or
 * whose max_tokens is below 1, becomes an {@code error} record at once and never enters the batch. If a batched step
 * throws (an unexpected engine error), the decoder drops the rows then in flight and each is decoded again alone
 * (its result is what the batched one would have been: batching does not change outputs); a row that fails alone
 * too becomes an error record with that failure, and decoding goes on with the next rows. Only the injected test
 * failure (counted in records produced) and JVM errors end the task. A row's {@code wall_ms} is its time from admission to its result; rows of a
 * batch overlap, so these add up to more than the task's wall time.
 *
 * <p>Speedup sample (MTP and {@code auto} runs; an autoregressive run has speedup 1 by definition and measures
 * nothing): with stride {@code round(1 / fraction)}, rows {@code stride/2, stride/2 + stride, …} of the input are
 * sampled, and so is the first row of each domain the task sees, so every domain with rows in a task gets a
 * measurement. A sampled row is decoded in the batch like every row, and its record is held back until the task's
 * input is done: then the sampled prompts are decoded again <b>at the task's batch size</b> (cycled to fill the
 * batch the task ran with), back to back by the task's decoder and autoregressively, and each sampled record
 * carries its autoregressive tokens and wall time and, as {@code wall_ms}, its time in the job decoder's run. So {@code measured_speedup} compares what the job ran against autoregressive decoding at the same
 * batch size on the same rows, with a warm JIT on both sides.
 */
public final class PartitionGenerator {
    private final GenerationSettings options;
    private final LoadedEngine engine;
    private final String configHash;
    private final TaskIdentity task;
    private final String device;
    private final int threads;
    private final IntFunction<Backend> backends;

    public PartitionGenerator(GenerationSettings options, LoadedEngine engine, String configHash, TaskIdentity task,
                              String device, int threads) {
        this(options, engine, configHash, task, device, threads,
                t -> BackendChoice.parse(options.backend()).create(t));
    }

    /** With the task's backend made from the thread count by {@code backends} (the task's GPU; tests inject faults). */
    PartitionGenerator(GenerationSettings options, LoadedEngine engine, String configHash, TaskIdentity task,
                       String device, int threads, IntFunction<Backend> backends) {
        this.options = options;
        this.engine = engine;
        this.configHash = configHash;
        this.task = task;
        this.device = device;
        this.threads = threads;
        this.backends = backends;
    }

    /** Lazily generated records for {@code rows}; {@code onFinish} receives the statistics after the last row. */
    public Iterator<GenerationRecord> generate(Iterator<PromptRow> rows, Consumer<TaskStats> onFinish) {
        return new Run(rows, onFinish);
    }

    /** A row in the decoder's batch, under the ticket {@link Decoder#submit} gave it. */
    private record Admitted(PromptRow row, GenerationRequest request, boolean sample, long startNanos) {
    }

    /** A sampled row's batched result, held until the autoregressive reference has run. */
    private record Pending(Admitted admitted, GenerationResult result) {
    }

    private final class Run implements Iterator<GenerationRecord> {
        private final Iterator<PromptRow> rows;
        private final Consumer<TaskStats> onFinish;
        private final long start = System.nanoTime();
        private final Backend backend;
        private final Decoder decoder;
        private final TextGenerator generator;
        private final RowPrompts prompts;
        private Decoder single; // batch-1 instance of the job's decoder, for retries: made on first use
        private final boolean measuresSpeedup;
        private final java.util.Set<String> sampledDomains = new java.util.HashSet<>();
        private final List<Pending> pending = new java.util.ArrayList<>();
        private int maxOccupancy;
        private final TaskStatsCollector stats;
        private final int sampleStride;
        private GenerateOptions.FailurePlan failure;
        private final Map<Long, Admitted> inFlight = new LinkedHashMap<>();
        private final Deque<GenerationRecord> ready = new ArrayDeque<>();
        private int pulled;
        private int produced;
        private int samplesAdmitted;
        private boolean finished;

        Run(Iterator<PromptRow> rows, Consumer<TaskStats> onFinish) {
            this.rows = rows;
            this.onFinish = onFinish;
            this.backend = backends.apply(threads);
            int k = options.k();
            int context = options.context();
            LlamaModel model = engine.bundle().model();
            this.decoder = DecoderFactory.create(options.decoder(), model, backend, engine.adapter(), k, context,
                    options.batchSize(), device);
            this.generator = new TextGenerator(engine.bundle(), decoder);
            this.prompts = new RowPrompts(options.chat() == null ? ChatSettings.NONE : options.chat(),
                    engine.bundle().tokenizer(), engine.modelFile());
            this.sampleStride = options.speedupSample() <= 0 ? 0 : (int) Math.max(1, Math.round(1 / options.speedupSample()));
            // an autoregressive decoder (asked for, or what auto fell back to) is its own reference: speedup 1
            this.measuresSpeedup = sampleStride > 0 && !(decoder instanceof AutoregressiveDecoder);
            this.stats = new TaskStatsCollector(decoder.name(), decoder.k());
            this.failure = options.failure() != null && options.failure().partition() == task.partitionId()
                    && task.attempt() == 0 ? options.failure() : null;
        }

        @Override
        public boolean hasNext() {
            if (finished) {
                return false;
            }
            fill();
            if (!ready.isEmpty()) {
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
            if (failure != null && produced == failure.rows() && failure.stallMillis() > 0) {
                stall(failure.stallMillis());
            } else if (failure != null && produced == failure.rows()) {
                backend.close();
                throw new IllegalStateException("injected failure: partition " + task.partitionId() + " attempt "
                        + task.attempt() + " after " + produced + " rows (--inject-failure)");
            }
            produced++;
            return ready.poll();
        }

        /** The injected straggler: sleeps once; Spark interrupts it when a speculative copy wins. */
        private void stall(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                backend.close();
                throw new IllegalStateException("injected stall of partition " + task.partitionId() + " attempt "
                        + task.attempt() + " interrupted (--inject-failure)", e);
            }
            failure = null;
        }

        /** Until a record is ready: fill free slots from the input, else run a step; stops when both are done. */
        private void fill() {
            while (ready.isEmpty()) {
                if (decoder.hasFreeSlot() && rows.hasNext()) {
                    admit(rows.next());
                } else if (decoder.active() > 0) {
                    step();
                } else if (!pending.isEmpty()) {
                    measureSamples();
                } else {
                    return;
                }
            }
        }

        private void finish() {
            finished = true;
            backend.close();
            double wallMs = (System.nanoTime() - start) / 1e6;
            if (decoder instanceof AdaptiveDecoder auto) {
                stats.policy(auto);
            }
            onFinish.accept(stats.finish(task, backend.name(), device, wallMs, engine.modelFingerprint(),
                    engine.adapterFingerprint()));
        }

        /** Submits the row to the decoder, or makes its error record when it cannot be decoded. */
        private void admit(PromptRow row) {
            long t0 = System.nanoTime();
            String domain = row.domain() == null ? "" : row.domain();
            boolean sample = measuresSpeedup && (pulled % sampleStride == sampleStride / 2
                    || !sampledDomains.contains(domain) || samplesAdmitted == 0 && !rows.hasNext());
            pulled++;
            Integer promptTokens = null;
            try {
                if (row.problem() != null) {
                    throw new IllegalArgumentException(row.problem());
                }
                RowPrompts.Prepared prepared = prompts.prepare(row);
                promptTokens = prepared.ids().length;
                GenerationRequest request = request(row, prepared);
                long ticket = decoder.submit(request);
                inFlight.put(ticket, new Admitted(row, request, sample, t0));
                maxOccupancy = Math.max(maxOccupancy, decoder.active());
                if (sample) {
                    samplesAdmitted++;
                    sampledDomains.add(domain);
                }
            } catch (RuntimeException e) {
                ready.add(error(row, promptTokens, e, t0));
            }
        }

        private GenerationRequest request(PromptRow row, RowPrompts.Prepared prepared) {
            int maxTokens = row.maxTokens() != null ? GenerationChecks.maxTokens("max_tokens", row.maxTokens())
                    : options.maxTokens();
            double temperature = row.temperature() != null ? row.temperature() : options.temperature();
            long seed = RowPrompts.sampleSeed(row.seed() != null ? row.seed() : options.seed(), row.id(),
                    row.sampleIndex(), row.n() != null ? row.n() : options.n());
            return new GenerationRequest(prepared.ids(), maxTokens, new SamplingOptions((float) temperature,
                    options.topK(), (float) options.topP(), seed), prepared.stop());
        }

        /** One batched forward; its finished rows become records, and if it throws, so does every row in flight. */
        private void step() {
            List<Decoder.Completion> done;
            try {
                // a copy: the decoder reuses its list, and a batch of one measures samples on the same decoder
                done = List.copyOf(decoder.step());
            } catch (RuntimeException e) {
                decoder.abort();
                // A failed batched step says nothing about any one row: each row then in flight is decoded again
                // alone, so a fault of the batch (or a passing one) loses no row; a row that fails alone as well
                // gets an error record with that failure.
                List<Admitted> retry = List.copyOf(inFlight.values());
                inFlight.clear();
                for (Admitted a : retry) {
                    GenerationRequest r = a.request();
                    GenerationResult alone;
                    try {
                        alone = single().generate(r.promptIds(), r.maxTokens(), r.sampling());
                    } catch (RuntimeException again) {
                        ready.add(error(a.row(), r.promptIds().length, again, a.startNanos()));
                        continue;
                    }
                    ready.add(completed(a, alone, null, 0, 0));
                }
                return;
            }
            for (Decoder.Completion c : done) {
                Admitted a = inFlight.remove(c.ticket());
                if (a.sample()) {
                    pending.add(new Pending(a, c.result()));
                } else {
                    ready.add(completed(a, c.result(), null, 0, 0));
                }
            }
        }

        private Decoder single() {
            if (single == null) {
                single = options.batchSize() == 1 ? decoder : DecoderFactory.create(options.decoder(),
                        engine.bundle().model(), backend, engine.adapter(), options.k(), options.context());
            }
            return single;
        }

        /**
         * The record of a finished row; when it was sampled, {@code ar} is its autoregressive reference and
         * {@code sampleNanos} its time in the job decoder's measuring run (then its {@code wall_ms}).
         */
        private GenerationRecord completed(Admitted a, GenerationResult result, GenerationResult ar,
                                           long sampleNanos, long arNanos) {
            try {
                String text = generator.decodeText(result);
                stats.succeeded(result);
                long wallNanos = result.totalNanos();
                if (ar != null) {
                    wallNanos = sampleNanos;
                    stats.sampled(result.generatedIds().length, sampleNanos, ar.generatedIds().length, arNanos);
                }
                PromptRow row = a.row();
                return new GenerationRecord(task.runId(), row.id(), row.domain(), promptHash(row),
                        configHash, result.promptIds().length, text, result.generatedIds().length,
                        result.finishReason().label(), null, decoder.name(), decoder.k(), result.forwardPasses(),
                        result.tokensPerPass(), wallNanos / 1e6, engine.modelFingerprint(),
                        engine.adapterFingerprint(), backend.name(), task.executorId(), task.attempt(), ar != null,
                        ar != null ? ar.generatedIds().length : null, ar != null ? arNanos / 1e6 : null,
                        row.sampleIndex());
            } catch (RuntimeException e) {
                return error(a.row(), a.request().promptIds().length, e, a.startNanos());
            }
        }

        /**
         * The held-back sampled rows, decoded again at the batch size the task ran with (the sampled prompts cycled
         * to fill it) by the task's own decoder and by an autoregressive one, interleaved step by step
         * ({@link InterleavedRun}) so both see the same moments of the machine: two back-to-back runs on a busy
         * machine differ by tens of percent on their own. Each row's first copy gives its autoregressive reference and
         * its {@code wall_ms} (the time of its decoder's steps while it was in flight). If either fails, the rows keep
         * their batched results without a sample.
         */
        private void measureSamples() {
            List<Pending> todo = List.copyOf(pending);
            pending.clear();
            if (!stats.ranMtpPass() && todo.stream().noneMatch(p -> TaskStatsCollector.hasMtpPass(p.result().stats()))) {
                // auto decoded this task autoregressively throughout: its run is the autoregressive reference itself
                // (speedup 1 by definition), and timing the same computation twice would only book noise as savings
                for (Pending p : todo) {
                    ready.add(completed(p.admitted(), p.result(), p.result(), p.result().totalNanos(),
                            p.result().totalNanos()));
                }
                return;
            }
            int batch = Math.max(1, Math.min(options.batchSize(), maxOccupancy));
            List<GenerationRequest> requests = new java.util.ArrayList<>();
            for (int i = 0; i < Math.max(todo.size(), batch); i++) {
                requests.add(todo.get(i % todo.size()).admitted().request());
            }
            List<List<InterleavedRun.Timed>> runs = null;
            try {
                Decoder reference = DecoderFactory.create("autoregressive", engine.bundle().model(), backend, null, 0,
                        options.context(), batch);
                runs = InterleavedRun.run(List.of(decoder, reference), requests);
            } catch (RuntimeException e) {
                runs = null;
            }
            for (int i = 0; i < todo.size(); i++) {
                Pending p = todo.get(i);
                ready.add(runs == null ? completed(p.admitted(), p.result(), null, 0, 0)
                        : completed(p.admitted(), p.result(), runs.get(1).get(i).result(), runs.get(0).get(i).nanos(),
                        runs.get(1).get(i).nanos()));
            }
        }

        private GenerationRecord error(PromptRow row, Integer promptTokens, RuntimeException e, long startNanos) {
            stats.failed(promptTokens);
            return new GenerationRecord(task.runId(), row.id(), row.domain(), promptHash(row),
                    configHash, promptTokens, null, 0, GenerationRecord.ERROR, describe(e), decoder.name(),
                    decoder.k(), 0, 0, (System.nanoTime() - startNanos) / 1e6, engine.modelFingerprint(),
                    engine.adapterFingerprint(), backend.name(), task.executorId(), task.attempt(), false, null, null,
                    row.sampleIndex());
        }
    }

    /** The hash of what the row asked: its messages (chat rows) or its prompt bytes. */
    static String promptHash(PromptRow row) {
        return promptHash(row.messagesJson() != null ? row.messagesJson().getBytes(StandardCharsets.UTF_8)
                : row.promptBytes());
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
