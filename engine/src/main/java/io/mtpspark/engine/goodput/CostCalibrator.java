package io.mtpspark.engine.goodput;

import io.mtpspark.engine.kvcache.SequenceCache;
import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.BlockBatch;
import io.mtpspark.engine.llama.BlockForward;
import io.mtpspark.engine.mtp.MtpAdapter;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Measures a {@link ForwardCostModel} on the live backend by timing the very forward object a decoder runs, with
 * blocks of the shapes decoders send (sequences × rows per sequence, the real rows' logits, the rest gated mask
 * rows) over caches of {@value #CACHED_POSITIONS} positions. Sequence counts 1, 2, 4, … up to the batch size; each
 * cell is the fastest of at least three forwards after one warm-up (the JIT, a busy neighbour or a GC pause only ever
 * make a forward slower), after a warm-up of the whole forward; a bigger shape is never recorded as cheaper than a
 * smaller one (noise would otherwise invent savings). The warm-up and the cells each stay within a time budget (cells
 * it does not reach are extrapolated, see {@link ForwardCostModel}; cells are measured smallest forward first, by total
 * rows, so what a budget leaves out is the biggest forwards of every sequence count); results are kept per JVM by key (model, backend,
 * device), so the tasks of an executor calibrate once.
 */
public final class CostCalibrator {
    /**
     * Default budget: ~2 s is enough for every cell of stories260K on a 2-core CPU, JIT warm-up included. The JIT
     * warm-up takes at most half of it; the cells take it again (more for big models, see
     * {@link #CELL_BUDGET_FORWARDS}), not counting the prefill of each sequence's cache. A big model measures fewer
     * cells (one forward of an 8B model on a GPU is ~10-20 ms, so ~100 cells), and the cells it does not reach are
     * extrapolated from the measured ones ({@link ForwardCostModel}).
     */
    public static final long DEFAULT_BUDGET_NANOS = 2_000_000_000L;
    static final int CACHED_POSITIONS = 128;
    private static final long MIN_CELL_NANOS = 2_000_000L;
    /**
     * The cells get at least the time of this many warmed one-row forwards: on a big model on a slow CPU (a 0.5 GB
     * model at 25 ms a forward on 2 cores) the default budget would time three cells and leave the batch's blocks to
     * extrapolation.
     */
    static final double CELL_BUDGET_FORWARDS = 80;
    /** ... but at most this long (an 8B model on a CPU forwards one row in about a second). */
    static final long MAX_BUDGET_NANOS = 20_000_000_000L;
    /** Cost ratio over the best possible gain beyond which bigger blocks are not measured (noise allowance). */
    static final double PRUNE_MARGIN = 1.25;
    private static final Logger LOG = Logger.getLogger(CostCalibrator.class.getName());
    private static final Map<String, ForwardCostModel> CACHE = new ConcurrentHashMap<>();

    private CostCalibrator() {
    }

    /**
     * The cost model for {@code key}, calibrated on first use in this JVM (or again when the cached one lacks some of
     * the sequence counts or row shapes asked for). Concurrent callers with the same key wait for one calibration.
     */
    public static ForwardCostModel cached(String key, BlockForward forward, MtpAdapter adapter, int maxSequences,
                                          int[] rows, int[] logits, double[] maxTokensFrom, long budgetNanos) {
        return CACHE.compute(key, (k, old) -> old != null && covers(old, maxSequences, rows) ? old
                : calibrate(key, forward, adapter, maxSequences, rows, logits, maxTokensFrom, budgetNanos));
    }

    /** The cost model cached for {@code key}, if one is, without calibrating. */
    public static java.util.Optional<ForwardCostModel> cachedModel(String key) {
        return java.util.Optional.ofNullable(CACHE.get(key));
    }

    /** Forgets every cached calibration (tests). */
    public static void clearCache() {
        CACHE.clear();
    }

    /**
     * Whether a model cached for {@code key} covers {@code maxSequences} and every shape of {@code rows}, so that
     * {@link #cached} with them would answer without calibrating. Allocates nothing (policies ask on every warm-up
     * step).
     */
    public static boolean isCached(String key, int maxSequences, int[] rows) {
        ForwardCostModel m = CACHE.get(key);
        return m != null && covers(m, maxSequences, rows);
    }

    private static boolean covers(ForwardCostModel m, int maxSequences, int[] rows) {
        if (!contains(m.sequences(), maxSequences)) {
            return false;
        }
        for (int r : rows) {
            if (!contains(m.rows(), r)) {
                return false;
            }
        }
        return true;
    }

    private static boolean contains(int[] values, int v) {
        for (int x : values) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    /**
     * Times forwards of {@code forward}: for each sequence count in 1, 2, 4, …, {@code maxSequences} and each
     * {@code rows[j]} (ascending, with {@code logits[j]} logit rows per sequence). Shapes that do not fit the
     * forward are left unmeasured.
     */
    public static ForwardCostModel calibrate(String key, BlockForward forward, MtpAdapter adapter, int maxSequences,
                                             int[] rows, int[] logits, long budgetNanos) {
        return calibrate(key, forward, adapter, maxSequences, rows, logits, null, budgetNanos);
    }

    /**
     * As above; {@code maxTokensFrom[j]}, when given, is the most tokens per pass any candidate configuration with
     * {@code rows[j]} rows per sequence or more can bring. Once a block of {@code rows[j]} rows costs more than
     * {@value #PRUNE_MARGIN} × {@code maxTokensFrom[j + 1]} times one row, no bigger block can beat autoregressive
     * decoding at that sequence count (costs only grow with rows), so the bigger cells are left to extrapolation:
     * on a compute-bound CPU that skips most of the calibration's time, on a memory-bound GPU nothing.
     */
    public static ForwardCostModel calibrate(String key, BlockForward forward, MtpAdapter adapter, int maxSequences,
                                             int[] rows, int[] logits, double[] maxTokensFrom, long budgetNanos) {
        long t0 = System.nanoTime();
        int[] seqs = sequenceGrid(maxSequences);
        int maxRows = Arrays.stream(rows).max().orElse(1);
        int cached = Math.max(0, Math.min(CACHED_POSITIONS, forward.maxContext() - maxRows - 1));
        int vocab = forward.model().config().vocabSize();
        double[][] seconds = new double[seqs.length][rows.length];
        for (double[] s : seconds) {
            Arrays.fill(s, Double.NaN);
        }
        List<SequenceCache> caches = new ArrayList<>();
        BlockBatch batch = new BlockBatch(forward.maxRows(), maxSequences);
        int[] tokens = new int[maxRows];
        int[] positions = new int[maxRows];
        boolean[] gate = new boolean[maxRows];
        int[] logitRows = new int[maxRows];
        boolean out = false;
        int pruned = 0;
        // warm-up: a cold JVM runs the forward's SIMD loops interpreted, 100x slower; repeat one-row forwards until
        // the time stops improving (five in a row within 10% of the best), for at most half the budget
        long warmEnd = t0 + budgetNanos / 2;
        caches.add(prefilled(forward, batch, cached, maxRows, vocab));
        fill(tokens, positions, gate, logitRows, 1, 1, cached, vocab, adapter);
        double best = Double.POSITIVE_INFINITY;
        int stable = 0;
        for (int it = 0; it < 10_000 && stable < 5 && System.nanoTime() < warmEnd; it++) {
            double t = timeCell(forward, adapter, batch, caches, 1, 1, 1, cached, tokens, positions, gate, logitRows,
                    1);
            stable = t < best * 0.9 ? 0 : stable + 1;
            best = Math.min(best, t);
        }
        // the cells' budget: the one given, or the time of CELL_BUDGET_FORWARDS one-row forwards where that is more
        // (a big model on a slow CPU), not counting the caches' prefill, which any cell at a new sequence count needs
        long cellBudget = Math.max(budgetNanos, Math.min(MAX_BUDGET_NANOS,
                Double.isFinite(best) ? (long) (CELL_BUDGET_FORWARDS * best * 1e9) : 0));
        long cellsStart = System.nanoTime();
        long[] prefillNanos = {0};
        // one cell (sequence index, row index): n sequences of r rows over their prefilled caches, fastest of three
        CellTimer timer = cell -> {
            int n = seqs[cell[0]];
            int r = rows[cell[1]];
            int real = Math.max(1, Math.min(r, logits[cell[1]]));
            while (caches.size() < n) {
                long p0 = System.nanoTime();
                caches.add(prefilled(forward, batch, cached, maxRows, vocab));
                prefillNanos[0] += System.nanoTime() - p0;
            }
            fill(tokens, positions, gate, logitRows, r, real, cached, vocab, adapter);
            return timeCell(forward, adapter, batch, caches, n, r, real, cached, tokens, positions, gate, logitRows, 3);
        };
        int[] prunedFrom = new int[seqs.length]; // per sequence count: the first row shape no longer measured
        Arrays.fill(prunedFrom, rows.length);
        for (int[] cell : byTotalRows(seqs, rows)) {
            int i = cell[0];
            int j = cell[1];
            int n = seqs[i];
            int r = rows[j];
            int real = Math.max(1, Math.min(r, logits[j]));
            if (j >= prunedFrom[i] || n * r > forward.maxRows() || n * real > forward.maxLogitRows()) {
                continue;
            }
            seconds[i][j] = timer.time(cell);
            if (System.nanoTime() - cellsStart - prefillNanos[0] > cellBudget) {
                out = true;
                break;
            }
            if (maxTokensFrom != null && j + 1 < rows.length && j > 0 && !Double.isNaN(seconds[i][0])
                    && seconds[i][j] > PRUNE_MARGIN * maxTokensFrom[j + 1] * seconds[i][0]) {
                pruned++;
                prunedFrom[i] = j + 1; // no bigger block can pay for itself at n sequences
            }
        }
        int retimed = retime(seconds, seqs, rows, timer);
        monotone(seconds);
        double ms = (System.nanoTime() - t0) / 1e6;
        ForwardCostModel m = new ForwardCostModel(key, seqs, rows, seconds, ms);
        LOG.info(String.format("cost calibration of %s: %.0f ms%s%s%s", key, ms, out ? " (budget reached; the remaining "
                + "shapes are extrapolated)" : "", pruned > 0 ? "; bigger blocks skipped at " + pruned
                + " sequence count(s): already too dear to pay for themselves" : "", retimed > 0 ? "; " + retimed
                + " cell(s) timed again: a bigger forward had been timed cheaper" : ""));
        return m;
    }

    /**
     * A cache holding {@code cached} real positions (prefilled through the forward itself, in chunks of its rows),
     * with room for a block of {@code maxRows} after them: the timed blocks attend to a realistic context, on the
     * host or the device alike.
     */
    private static SequenceCache prefilled(BlockForward forward, BlockBatch batch, int cached, int maxRows,
                                           int vocab) {
        SequenceCache c = forward.newCache(cached + maxRows);
        int chunk = Math.max(1, forward.maxRows());
        int[] tokens = new int[chunk];
        int[] positions = new int[chunk];
        boolean[] gate = new boolean[chunk];
        int[] noLogits = new int[0];
        for (int done = 0; done < cached; ) {
            int n = Math.min(chunk, cached - done);
            for (int i = 0; i < n; i++) {
                tokens[i] = 3 + (done + i) % (vocab - 3);
                positions[i] = done + i;
            }
            batch.clear();
            batch.add(tokens, positions, gate, n, AttentionMask.CAUSAL, c, noLogits, 0);
            forward.forward(batch, null);
            done += n;
        }
        return c;
    }

    /** A block of r rows: the first {@code real} real tokens (with logits), the rest gated mask rows. */
    private static void fill(int[] tokens, int[] positions, boolean[] gate, int[] logitRows, int r, int real,
                             int cached, int vocab, MtpAdapter adapter) {
        for (int row = 0; row < r; row++) {
            boolean mask = adapter != null && row >= real;
            tokens[row] = mask ? MtpAdapter.maskId(vocab, 1 + (row - real) % adapter.k()) : 3 + row % (vocab - 3);
            positions[row] = cached + row;
            gate[row] = mask;
            logitRows[row] = row;
        }
    }

    /** Times one cell again ({@code cell} = sequence index, row index), returning its fastest forward in seconds. */
    @FunctionalInterface
    interface CellTimer {
        double time(int[] cell);
    }

    /**
     * A second look before {@link #monotone}: every one-row cell (the cost every ratio is taken against, and the
     * cheapest to time) is timed again and keeps the faster of its two times; then each cell that a bigger forward
     * (as many sequences or more, as many rows or more) was timed more than 10% cheaper than is timed again, up to
     * twice, while it still is. A forward is never cheaper than a smaller one, so such a cell was timed slow: JIT-cold
     * (a forward compiled late or deoptimised by a new shape, whose times are steady but several times too slow) or
     * beside a burst of other work. Left as it was, {@link #monotone} would raise every bigger cell to it, and a slow
     * one-row cell makes every block look as cheap as one row, so the policy picks MTP where it loses. Last, each
     * cell timed well above the chord of its neighbours ({@link #aboveChord}) is timed again, up to twice. Returns
     * how many cells were timed again beyond the one-row pass.
     */
    static int retime(double[][] seconds, int[] seqs, int[] rows, CellTimer timer) {
        for (int i = 0; i < seqs.length; i++) {
            if (!Double.isNaN(seconds[i][0])) {
                seconds[i][0] = Math.min(seconds[i][0], timer.time(new int[]{i, 0}));
            }
        }
        int again = 0;
        for (int[] cell : byTotalRows(seqs, rows)) {
            for (int attempt = 0; attempt < 2 && undercut(seconds, cell[0], cell[1]); attempt++) {
                seconds[cell[0]][cell[1]] = Math.min(seconds[cell[0]][cell[1]], timer.time(cell));
                again++;
            }
        }
        for (int[] cell : byTotalRows(seqs, rows)) {
            for (int attempt = 0; attempt < 2 && aboveChord(seconds, rows, cell[0], cell[1]); attempt++) {
                seconds[cell[0]][cell[1]] = Math.min(seconds[cell[0]][cell[1]], timer.time(cell));
                again++;
            }
        }
        return again;
    }

    /**
     * Whether cell (i, j) was timed more than 10% above the chord between the nearest measured smaller and bigger
     * blocks at the same sequence count. A forward's time grows with its rows at a rate that falls little if at all
     * (it is the larger of the weights' reads, flat, and the arithmetic, linear; measured few-row cells stay within a
     * few percent of their chords), so a cell well above the chord was most likely timed slow: on the Zen 3 host a
     * 17-row cell read 81 ms
     * between 41 ms at 9 rows and 84 ms at 25, and made linear k=4 look as good as k=8 (docs/BENCHMARKS.md, issue 12).
     * Neither neighbour undercuts it, so {@link #undercut} lets it stand. A cell that is really that dear keeps its
     * time: it is only timed again.
     */
    static boolean aboveChord(double[][] seconds, int[] rows, int i, int j) {
        double t = seconds[i][j];
        if (Double.isNaN(t)) {
            return false;
        }
        int a = j - 1;
        while (a >= 0 && Double.isNaN(seconds[i][a])) {
            a--;
        }
        int b = j + 1;
        while (b < rows.length && Double.isNaN(seconds[i][b])) {
            b++;
        }
        if (a < 0 || b >= rows.length) {
            return false;
        }
        double chord = seconds[i][a] + (seconds[i][b] - seconds[i][a]) * (rows[j] - rows[a]) / (rows[b] - rows[a]);
        return t > 1.1 * chord;
    }

    /** Whether a measured cell bigger than (i, j) in both directions was timed more than 10% cheaper than it. */
    private static boolean undercut(double[][] seconds, int i, int j) {
        double t = seconds[i][j];
        if (Double.isNaN(t)) {
            return false;
        }
        for (int a = i; a < seconds.length; a++) {
            for (int b = j; b < seconds[a].length; b++) {
                if ((a != i || b != j) && seconds[a][b] * 1.1 < t) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Running maximum along rows, then along sequence counts, over the measured cells. */
    static void monotone(double[][] seconds) {
        for (int i = 0; i < seconds.length; i++) {
            double max = 0;
            for (int j = 0; j < seconds[i].length; j++) {
                if (!Double.isNaN(seconds[i][j])) {
                    max = Math.max(max, seconds[i][j]);
                    seconds[i][j] = max;
                }
                if (i > 0 && !Double.isNaN(seconds[i][j]) && !Double.isNaN(seconds[i - 1][j])) {
                    seconds[i][j] = Math.max(seconds[i][j], seconds[i - 1][j]);
                    max = Math.max(max, seconds[i][j]);
                }
            }
        }
    }

    private static double timeCell(BlockForward forward, MtpAdapter adapter, BlockBatch batch, List<SequenceCache> caches,
                                   int n, int r, int real, int cached, int[] tokens, int[] positions, boolean[] gate,
                                   int[] logitRows, int repeats) {
        double best = Double.POSITIVE_INFINITY;
        long spent = 0;
        for (int it = -1; it < repeats || spent < MIN_CELL_NANOS && it < 50; it++) {
            batch.clear();
            for (int s = 0; s < n; s++) {
                SequenceCache c = caches.get(s);
                c.truncate(cached); // back to the prefilled positions: each repeat attends to the same context
                batch.add(tokens, positions, gate, r, AttentionMask.CAUSAL, c, logitRows, real);
            }
            long f0 = System.nanoTime();
            forward.forward(batch, adapter);
            long dt = System.nanoTime() - f0;
            if (it >= 0) {
                best = Math.min(best, dt / 1e9);
                spent += dt;
            }
        }
        return best;
    }

    /**
     * The cells (sequence index, row index) in the order they are measured: by total rows per forward (sequences ×
     * rows per sequence), smaller first, then fewer sequences. A budget that runs out thus leaves out the biggest
     * forwards at every sequence count rather than every sequence count but the first: the one-row cost at the batch
     * size (what autoregressive decoding pays) is measured before a big block of one sequence. Extrapolating
     * missing sequence counts linearly from one sequence would keep one sequence's cheap block-to-row ratio and so
     * flatter every MTP block at a large batch, where the rows of all sequences share each weight read.
     */
    static List<int[]> byTotalRows(int[] seqs, int[] rows) {
        List<int[]> cells = new ArrayList<>();
        for (int i = 0; i < seqs.length; i++) {
            for (int j = 0; j < rows.length; j++) {
                cells.add(new int[]{i, j});
            }
        }
        cells.sort((a, b) -> {
            long ta = (long) seqs[a[0]] * rows[a[1]];
            long tb = (long) seqs[b[0]] * rows[b[1]];
            return ta != tb ? Long.compare(ta, tb) : Integer.compare(a[0], b[0]);
        });
        return cells;
    }

    /** 1, 2, 4, … below {@code max}, then {@code max}. */
    static int[] sequenceGrid(int max) {
        List<Integer> out = new ArrayList<>();
        for (int s = 1; s < max; s *= 2) {
            out.add(s);
        }
        out.add(max);
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
