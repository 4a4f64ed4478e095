package io.mtpspark.engine.session;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.model.LlamaConfig;
import java.util.Locale;

/**
 * The heap a decoder will need at most, checked before it allocates anything: the KV cache of every sequence of
 * the batch filled to the context, plus the forward's per-row scratch and logits. A batch × context the JVM cannot
 * hold is refused with the numbers and the remedies, instead of an {@link OutOfMemoryError} killing the executor
 * mid-task (issue 17) after minutes of work. Caches grow on demand, so a run that fits this bound never runs out;
 * the check is conservative (worst case), never optimistic.
 */
public final class MemoryEstimate {
    private MemoryEstimate() {
    }

    /** Bytes of the KV caches of {@code batch} sequences of {@code context} positions (fp32 keys and values). */
    public static long kvCacheBytes(LlamaConfig c, int context, int batch) {
        return 2L * Float.BYTES * c.nLayers() * c.kvDim() * (long) context * batch;
    }

    /** Bytes of the forward's buffers for {@code rows} rows at once, {@code logitRows} of which need logits. */
    public static long scratchBytes(LlamaConfig c, long rows, long logitRows) {
        long perRow = 6L * c.dim() + 2L * c.qDim() + 2L * c.kvDim() + 2L * c.hiddenDim();
        return Float.BYTES * (rows * perRow + logitRows * ((long) c.vocabSize() + c.dim()));
    }

    /** Heap this JVM can still allocate: its maximum less what is in use now. */
    public static long availableHeap() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    /** Refuses a decoder whose worst case exceeds {@code available} bytes, naming every number. */
    public static void check(LlamaConfig c, int context, int batch, long rows, long logitRows, long available) {
        long kv = kvCacheBytes(c, context, batch);
        long scratch = scratchBytes(c, rows, logitRows);
        if (kv + scratch > available) {
            throw new EngineException(String.format(Locale.ROOT, "not enough memory for batch %d × context %d: the "
                            + "KV cache needs up to %s (%d layers × %d kv dims × 2 × 4 bytes per position) and the "
                            + "forward %s, %s in all, but this JVM has %s free of %s; lower --batch-size or "
                            + "--context, or give the executor more memory", batch, context, gib(kv), c.nLayers(),
                    c.kvDim(), gib(scratch), gib(kv + scratch), gib(available), gib(Runtime.getRuntime().maxMemory())));
        }
    }

    static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }
}
