package io.mtpspark.engine.decode;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.kvcache.SequenceCache;
import io.mtpspark.engine.llama.BlockBatch;
import io.mtpspark.engine.llama.BlockForward;
import io.mtpspark.engine.llama.GreedyVerdicts;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.sampling.Sampler;
import io.mtpspark.engine.sampling.SamplingOptions;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A decoding strategy over token ids, run for up to {@link #batchSize()} sequences at once with continuous batching:
 * each {@link #step()} is one batched forward in which every active sequence contributes its next block (a prompt
 * chunk, one token, or an MTP block), finished sequences leave and new requests take their slots at once. Every
 * decoder must emit, under greedy sampling, exactly the tokens plain autoregressive greedy decoding emits; and since
 * each row of a batched forward is bit-for-bit that row's forward alone, a sequence's output does not depend on what
 * it was batched with (sampling included: each request has its own seeded sampler).
 *
 * <p>Two ways in: {@link #generate}/{@link #generateAll} for a known set of prompts, or the streaming
 * {@link #submit}/{@link #step} pair for a caller that feeds requests as they come (a Spark partition). An instance
 * owns its KV caches and scratch and is used by one thread at a time.
 */
public abstract class Decoder {
    protected final BlockForward forward;
    protected final int vocab;
    protected final StopRule stop;
    private final int batchSize;
    private final int rowsPerSequence;
    private final BlockBatch batch;
    private final Sequence[] slots;
    private final Sequence[] planned;
    private final List<Completion> completed = new ArrayList<>();
    private long nextTicket;
    private int active;

    /** One finished request: the ticket {@link #submit} returned and its result. */
    public record Completion(long ticket, GenerationResult result) {
    }

    /**
     * @param forward   the forward pass; its rows are split evenly among the batch's sequences
     * @param batchSize sequences decoded together
     * @param minRows   rows one sequence's block needs at most
     */
    protected Decoder(BlockForward forward, int batchSize, int minRows) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        this.forward = forward;
        this.vocab = forward.model().config().vocabSize();
        this.stop = StopRule.of(forward.model().config());
        this.batchSize = batchSize;
        this.rowsPerSequence = forward.maxRows() / batchSize;
        if (rowsPerSequence < minRows) {
            throw new IllegalArgumentException(name() + " decoding needs blocks of " + minRows + " rows per sequence; "
                    + "a forward of " + forward.maxRows() + " rows holds " + rowsPerSequence + " for each of "
                    + batchSize + " sequences");
        }
        this.batch = new BlockBatch(forward.maxRows(), batchSize);
        this.slots = new Sequence[batchSize];
        this.planned = new Sequence[batchSize];
    }

    public abstract String name();

    /** The adapter the forward runs with (null for plain decoding). */
    protected abstract MtpAdapter adapter();

    /** A fresh per-sequence state with a KV cache of {@code cacheCapacity} rows and blocks of {@code rows} rows. */
    protected abstract Sequence newSequence(int cacheCapacity, int rows);

    public int batchSize() {
        return batchSize;
    }

    /** Masks per step (the most an adaptive decoder uses); 0 for autoregressive decoding. */
    public int k() {
        return 0;
    }

    /** Positions per sequence, prompt included. */
    public int maxContext() {
        return forward.maxContext();
    }

    /** Decodes one prompt (a batch of one). */
    public GenerationResult generate(int[] promptIds, int maxTokens, SamplingOptions sampling) {
        return generateAll(List.of(new GenerationRequest(promptIds, maxTokens, sampling))).get(0);
    }

    /**
     * Decodes every request, up to {@link #batchSize()} at a time, and returns the results in request order. Every
     * prompt is checked before any decoding starts.
     */
    public List<GenerationResult> generateAll(List<GenerationRequest> requests) {
        return generateAll(requests, r -> { });
    }

    /** As {@link #generateAll(List)}, telling {@code onResult} of each result as it finishes (for progress). */
    public List<GenerationResult> generateAll(List<GenerationRequest> requests,
                                              java.util.function.Consumer<GenerationResult> onResult) {
        if (active > 0) {
            throw new IllegalStateException("decoder has " + active + " sequences in flight");
        }
        for (int i = 0; i < requests.size(); i++) {
            try {
                checkPrompt(requests.get(i).promptIds(), forward.maxContext());
            } catch (EngineException e) {
                throw new EngineException("request " + i + ": " + e.getMessage());
            }
        }
        GenerationResult[] results = new GenerationResult[requests.size()];
        long first = nextTicket;
        int next = 0;
        int done = 0;
        try {
            while (done < results.length) {
                while (next < results.length && hasFreeSlot()) {
                    submit(requests.get(next++));
                }
                for (Completion c : step()) {
                    results[(int) (c.ticket() - first)] = c.result();
                    done++;
                    onResult.accept(c.result());
                }
            }
        } catch (RuntimeException e) {
            // the caller gets no results for this call either way; freeing the slots keeps the decoder usable
            abort();
            throw e;
        }
        return Arrays.asList(results);
    }

    public boolean hasFreeSlot() {
        return active < batchSize;
    }

    /** Sequences admitted and not yet finished. */
    public int active() {
        return active;
    }

    /**
     * Admits a request into a free slot; it joins the next {@link #step()}. Returns its ticket (increasing per
     * decoder). A prompt that cannot be decoded is refused with an {@link EngineException} and nothing is admitted.
     */
    public long submit(GenerationRequest request) {
        if (!hasFreeSlot()) {
            throw new IllegalStateException("all " + batchSize + " slots are busy; step() first");
        }
        checkPrompt(request.promptIds(), forward.maxContext());
        for (int s = 0; s < batchSize; s++) {
            if (slots[s] == null) {
                slots[s] = newSequence(forward.maxContext() + rowsPerSequence, rowsPerSequence);
            }
            if (!slots[s].busy) {
                slots[s].start(nextTicket, request);
                active++;
                return nextTicket++;
            }
        }
        throw new IllegalStateException("no free slot although " + active + " < " + batchSize);
    }

    /**
     * Runs one batched forward over every active sequence and returns the requests that finished (the list is
     * reused by the next call). A sequence that needs no forward to finish (budget or context exhausted) finishes
     * here too.
     */
    public List<Completion> step() {
        completed.clear();
        batch.clear();
        beforeStep(active);
        long step0 = System.nanoTime();
        int n = 0;
        boolean prefill = false;
        for (Sequence s : slots) {
            if (s == null || !s.busy) {
                continue;
            }
            prefill |= s.prefilling();
            s.rowBase = batch.rows();
            s.logitBase = batch.logitCount();
            int segment = batch.segments();
            if (s.plan(batch)) {
                if (batch.segments() > segment && !s.sampler.options().greedy()) {
                    batch.sampling(segment, s.sampler.options()); // for a forward that samples on the device
                }
                planned[n++] = s;
            } else {
                finish(s);
            }
        }
        if (n > 0) {
            long f0 = System.nanoTime();
            forward.forward(batch, adapter());
            long dt = System.nanoTime() - f0;
            afterForward(n, batch.rows(), dt);
            float[] logits = forward.verdicts() == null ? forward.logits() : null; // else verified on the device
            for (int i = 0; i < n; i++) {
                Sequence s = planned[i];
                planned[i] = null;
                s.forwardNanos += dt;
                s.passes++;
                if (s.consume(logits, forward.hidden())) {
                    finish(s);
                }
            }
            if (!prefill) {
                afterDecodeStep(n, System.nanoTime() - step0);
            }
        }
        return completed;
    }

    /** Slots, busy or not (null until first used): {@code 0 .. batchSize()-1}. */
    protected final Sequence slot(int i) {
        return slots[i];
    }

    /** Called at the start of each {@link #step()} with the sequences in flight (a decoder may re-plan here). */
    protected void beforeStep(int sequences) {
    }

    /** Called after each step's forward: sequences in it, rows and the forward's wall time. */
    protected void afterForward(int sequences, int rows, long nanos) {
    }

    /**
     * Called after each step in which no sequence was prefilling its prompt: the sequences in it and the step's
     * whole wall time (forward, verification, sampling, drafting), what a decoding step really costs.
     */
    protected void afterDecodeStep(int sequences, long nanos) {
    }

    /** The forward pass this decoder runs (cost calibration times the same object). */
    public BlockForward forward() {
        return forward;
    }

    /**
     * Drops every request in flight without a result and frees all slots, so the decoder takes new requests again:
     * the way back after {@link #step()} threw, which leaves its sequences half-stepped. Tickets not yet returned by
     * {@code step()} are never returned; a dropped sequence's KV cache is reset when its slot takes the next request.
     */
    public void abort() {
        for (Sequence s : slots) {
            if (s != null) {
                s.busy = false;
            }
        }
        Arrays.fill(planned, null);
        completed.clear();
        batch.clear();
        active = 0;
    }

    private void finish(Sequence s) {
        completed.add(new Completion(s.ticket, s.result()));
        s.busy = false;
        active--;
    }

    /**
     * The forward's device-side verdicts for a sequence sampling with {@code sampler}, or null when it verifies
     * here from the logits; sampling at temperature > 0 on a forward that verifies greedily only is refused.
     */
    protected GreedyVerdicts deviceVerdicts(Sampler sampler) {
        GreedyVerdicts v = forward.verdicts();
        if (v != null && !sampler.options().greedy() && !forward.samplesOnDevice()) {
            throw new EngineException("this forward verifies greedily on the device; sampling at temperature > 0"
                    + " needs a forward that returns logits (no verifyOnDevice)");
        }
        return v;
    }

    static void checkPrompt(int[] promptIds, int context) {
        if (promptIds.length == 0) { // never null: GenerationRequest refuses that
            throw new EngineException("empty prompt: at least one token (BOS) is required");
        }
        if (promptIds.length >= context) {
            throw new EngineException("prompt of " + promptIds.length + " tokens does not fit the context of "
                    + context + " positions (at least one position must remain for generation)");
        }
    }

    /**
     * One sequence's decoding state, reused for request after request. {@link #plan} adds its next block to the
     * batch (rows from {@link #rowBase}, logits from {@link #logitBase}); {@link #consume} reads the results.
     */
    protected abstract class Sequence {
        protected final SequenceCache cache;
        protected final int rows;
        protected int[] promptIds;
        protected Sampler sampler;
        protected int maxTokens;
        protected int rowBase;
        protected int logitBase;
        protected int passes;
        protected long forwardNanos;
        protected long samplerNanos;
        protected long bookkeepingNanos;
        private int[] out = new int[0];
        private int produced;
        private long ticket;
        private boolean busy;
        private long startNanos;
        private long firstTokenNanos;
        private StopCondition.Matcher stopMatcher; // null when the request has no stop tokens or strings
        private boolean stopped;

        protected Sequence(int cacheCapacity, int rows) {
            this.cache = forward.newCache(cacheCapacity);
            this.rows = rows;
        }

        /** Whether this sequence's next block still carries prompt rows (its step is no decoding step). */
        protected boolean prefilling() {
            return false;
        }

        private void start(long ticket, GenerationRequest r) {
            this.ticket = ticket;
            this.busy = true;
            this.promptIds = r.promptIds();
            this.maxTokens = Math.max(0, r.maxTokens());
            this.sampler = new Sampler(r.sampling(), vocab);
            this.stopMatcher = r.stop().isEmpty() ? null : r.stop().matcher();
            this.stopped = false;
            // Sized by what the context can hold, not by the budget: a row asking for 2e9 tokens must not make the
            // executor allocate 8 GB (issue 17); the context ends generation long before.
            int room = Math.min(maxTokens, forward.maxContext() + 1);
            if (out.length < room) {
                out = new int[room];
            }
            produced = 0;
            passes = 0;
            forwardNanos = 0;
            samplerNanos = 0;
            bookkeepingNanos = 0;
            startNanos = System.nanoTime();
            firstTokenNanos = 0;
            cache.truncate(0);
            reset();
        }

        /** Clears the subclass state for a new request ({@link #promptIds}, {@link #maxTokens} are set). */
        protected abstract void reset();

        /** Adds this sequence's next block to the batch; false when it is finished and needs no forward. */
        protected abstract boolean plan(BlockBatch batch);

        /** Reads this sequence's logits/hidden rows after the forward; true when the sequence is finished. */
        protected abstract boolean consume(float[] logits, float[] hidden);

        protected abstract DecodeStats stats();

        /** Whether a request is in flight in this slot. */
        protected final boolean inFlight() {
            return busy;
        }

        protected int produced() {
            return produced;
        }

        /** Appends a token; returns true when generation must end (stop token or token budget). */
        protected boolean emit(int token) {
            if (produced == 0) {
                firstTokenNanos = System.nanoTime();
            }
            if (produced == out.length) {
                out = Arrays.copyOf(out, (int) Math.min(maxTokens, 2L * out.length + 1)); // defensive, never hot
            }
            out[produced++] = token;
            // every decoder emits through here token by token, so they all stop at the same one
            stopped = stop.isStop(token) || stopMatcher != null && stopMatcher.accept(token);
            return stopped || produced >= maxTokens;
        }

        private GenerationResult result() {
            long end = System.nanoTime();
            long first = produced == 0 ? end : firstTokenNanos;
            FinishReason reason = stopped ? FinishReason.STOP : FinishReason.LENGTH;
            return new GenerationResult(promptIds.clone(), Arrays.copyOf(out, produced), reason, passes,
                    first - startNanos, end - first, stats(), stopMatcher == null ? null : stopMatcher.matched());
        }
    }
}
