package io.mtpspark.engine.decode;

import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.BlockBatch;
import io.mtpspark.engine.llama.BlockForward;
import io.mtpspark.engine.llama.GreedyVerdicts;
import io.mtpspark.engine.mtp.MtpAdapter;

/**
 * Plain next-token decoding, the baseline every other decoder is checked against: the prompt in causal chunks of
 * the sequence's rows, then one row per generated token. In a batch, one sequence's prompt chunk and the others'
 * single tokens share a forward.
 */
public final class AutoregressiveDecoder extends Decoder {

    /** One sequence at a time, prompt chunks of the forward's rows. */
    public AutoregressiveDecoder(BlockForward forward) {
        this(forward, 1);
    }

    /** {@code batchSize} sequences at once; each gets {@code forward.maxRows() / batchSize} rows for its prompt. */
    public AutoregressiveDecoder(BlockForward forward, int batchSize) {
        super(forward, batchSize, 1);
    }

    @Override
    public String name() {
        return "autoregressive";
    }

    @Override
    protected MtpAdapter adapter() {
        return null;
    }

    @Override
    protected Sequence newSequence(int cacheCapacity, int rows) {
        return new ArSequence(cacheCapacity, rows);
    }

    private final class ArSequence extends Sequence {
        private final int[] tokens;
        private final int[] positions;
        private final int[] lastRow = new int[1];
        private int prefilled; // prompt tokens in the cache; the prompt is done when this reaches its length
        private int chunk;
        private int next;
        private long steps; // single-token passes (prompt chunks excluded)

        ArSequence(int cacheCapacity, int rows) {
            super(cacheCapacity, rows);
            tokens = new int[rows];
            positions = new int[rows];
        }

        @Override
        protected void reset() {
            prefilled = 0;
            steps = 0;
        }

        @Override
        protected boolean plan(BlockBatch batch) {
            if (prefilled < promptIds.length) {
                chunk = Math.min(rows, promptIds.length - prefilled);
                for (int i = 0; i < chunk; i++) {
                    tokens[i] = promptIds[prefilled + i];
                    positions[i] = prefilled + i;
                }
                boolean last = prefilled + chunk == promptIds.length;
                lastRow[0] = chunk - 1;
                batch.add(tokens, positions, null, chunk, AttentionMask.CAUSAL, cache, lastRow, last ? 1 : 0);
                return true;
            }
            if (maxTokens == 0) {
                return false; // prompt only: consume() ends every other case itself
            }
            chunk = 0;
            steps++;
            tokens[0] = next;
            positions[0] = cache.length();
            lastRow[0] = 0;
            batch.add(tokens, positions, null, 1, AttentionMask.CAUSAL, cache, lastRow, 1);
            return true;
        }

        @Override
        protected boolean consume(float[] logits, float[] hidden) {
            if (chunk > 0) {
                prefilled += chunk;
                if (prefilled < promptIds.length || maxTokens == 0) {
                    return false;
                }
            }
            long s0 = System.nanoTime();
            GreedyVerdicts v = deviceVerdicts(sampler);
            next = v != null ? v.token(logitBase) : sampler.sample(logits, logitBase * vocab, vocab);
            samplerNanos += System.nanoTime() - s0;
            return emit(next) || cache.length() >= forward.maxContext();
        }

        @Override
        protected DecodeStats stats() {
            // no MTP passes: the accept histogram stays empty, so reports never mix single-token passes into it
            return new DecodeStats(name(), 0, new long[1], new long[0], new long[0], forwardNanos, samplerNanos,
                    bookkeepingNanos, passes == 0 ? java.util.Map.of() : java.util.Map.of(name(), (long) passes),
                    steps);
        }
    }
}
