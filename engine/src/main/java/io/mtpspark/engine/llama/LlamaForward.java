package io.mtpspark.engine.llama;

import io.mtpspark.engine.kvcache.KvCache;
import io.mtpspark.engine.kvcache.SequenceCache;
import io.mtpspark.engine.model.LayerWeights;
import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.LlamaWeights;
import io.mtpspark.engine.mtp.LoraTarget;
import io.mtpspark.engine.mtp.LoraWeights;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.tensor.WeightTensor;

/**
 * The Llama block forward: n new tokens at once, each with an explicit position id, attending to the KV cache and
 * to each other through an explicit {@link AttentionMask}. Writes the new tokens' keys/values into the cache
 * (which grows by n), leaves the final-norm hidden states of all n rows in {@link #hidden()} and the logits of the
 * requested rows in {@link #logits()}. Single-token decoding is the n = 1 case. A {@link BlockBatch} runs the blocks
 * of several sequences, each with its own cache and mask, in one pass: the linears over all rows at once, attention
 * per sequence.
 *
 * <p>With an {@link MtpAdapter}, token ids {@code vocab .. vocab+K-1} are mask tokens (embedded from the adapter)
 * and rows whose gate is set get the gated-LoRA branch added to each of the seven linears. The branch is computed only
 * for gated rows and added to them (a select, never a multiply by zero), so ungated rows are bit-for-bit the plain
 * model whatever the adapter holds.
 *
 * <p>An instance owns its scratch buffers (sized for {@code maxRows} rows and {@code maxContext} positions) and is
 * used by one thread at a time; the model's weights are shared. The forward allocates nothing (each attention thread
 * makes its score row once).
 */
public final class LlamaForward implements BlockForward {
    private final LlamaModel model;
    private final LlamaConfig c;
    private final LlamaWeights w;
    private final Backend backend;
    private final RopeTable rope;
    private final int maxRows;
    private final int maxContext;

    private final float[] x;      // residual stream [rows][dim]
    private final float[] xb;     // normed input [rows][dim]
    private final float[] xb2;    // projection output [rows][dim]
    private final float[] q;      // [rows][qDim]
    private final float[] k;      // [rows][kvDim]
    private final float[] v;      // [rows][kvDim]
    private final float[] attOut; // [rows][qDim]
    private final float[] hb;     // [rows][hiddenDim]
    private final float[] hb2;    // [rows][hiddenDim]
    /** {q, k, v} and {hb, hb2} with their layer's weights: each trio and pair is one {@link Backend#matmuls}. */
    private final float[][] qkvOut;
    private final WeightTensor[] qkvWeights = new WeightTensor[3];
    private final float[][] gateUpOut;
    private final WeightTensor[] gateUpWeights = new WeightTensor[2];
    private final float[] hidden; // [rows][dim] final-norm hidden states
    private final float[] gathered; // [logit rows][dim] hidden rows whose logits are asked for
    private final float[] logits; // [logit rows][vocab]
    private final int maxLogitRows;
    private final BlockBatch single; // the one-sequence forward's batch
    // gated-LoRA scratch: gathered inputs of gated rows, their low-rank projection and branch output
    private final int[] gatedRows;
    private final float[] loraIn;
    private final float[] loraOut;
    private float[] loraLow = new float[0];

    // arguments of the attention call, in fields so the parallel task needs no allocation
    private int attLayer;
    private BlockBatch attBatch;
    // per thread: segments run concurrently, a row needs at most context + block columns
    private final ThreadLocal<AttentionScratch> attentionScratch;
    private final Backend.RangeTask attentionTask = this::attentionHeads;
    /** The FFN's SwiGLU over rows [from, to) of hb and hb2 (rows of {@link #siluHid}). */
    private final Backend.RangeTask siluTask = this::siluRows;
    private int siluHid;
    /** A SwiGLU element (an exponential, a divide, two multiplies) priced in multiply-adds, for the split. */
    private static final long SILU_WORK_PER_ELEMENT = 8;

    public LlamaForward(LlamaModel model, Backend backend, int maxRows, int maxContext) {
        this(model, backend, maxRows, maxContext, maxRows);
    }

    /**
     * @param maxRows      rows per forward, over all sequences of a batch
     * @param maxContext   positions per sequence (capped at the model's)
     * @param maxLogitRows rows per forward whose logits can be asked for (the logits buffer is this × vocab)
     */
    public LlamaForward(LlamaModel model, Backend backend, int maxRows, int maxContext, int maxLogitRows) {
        if (maxRows < 1 || maxLogitRows < 1 || maxLogitRows > maxRows) {
            throw new IllegalArgumentException("forward of " + maxRows + " rows and " + maxLogitRows
                    + " logit rows");
        }
        this.model = model;
        this.c = model.config();
        this.w = model.weights();
        this.backend = backend;
        this.maxRows = maxRows;
        this.maxContext = Math.min(maxContext, c.seqLen());
        this.rope = new RopeTable(c, this.maxContext);
        x = new float[maxRows * c.dim()];
        xb = new float[maxRows * c.dim()];
        xb2 = new float[maxRows * c.dim()];
        q = new float[maxRows * c.qDim()];
        k = new float[maxRows * c.kvDim()];
        v = new float[maxRows * c.kvDim()];
        attOut = new float[maxRows * c.qDim()];
        hb = new float[maxRows * c.hiddenDim()];
        hb2 = new float[maxRows * c.hiddenDim()];
        qkvOut = new float[][] {q, k, v};
        gateUpOut = new float[][] {hb, hb2};
        // speculative blocks may hold more rows than positions, so scores cover context + one block
        int scoreColumns = this.maxContext + maxRows;
        attentionScratch = ThreadLocal.withInitial(() -> new AttentionScratch(scoreColumns));
        hidden = new float[maxRows * c.dim()];
        this.maxLogitRows = maxLogitRows;
        gathered = new float[maxLogitRows * c.dim()];
        logits = new float[maxLogitRows * c.vocabSize()];
        single = new BlockBatch(maxRows, 1);
        int widest = Math.max(Math.max(c.dim(), c.qDim()), c.hiddenDim());
        gatedRows = new int[maxRows];
        loraIn = new float[maxRows * widest];
        loraOut = new float[maxRows * widest];
    }

    @Override
    public LlamaModel model() {
        return model;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public int maxRows() {
        return maxRows;
    }

    /**
     * Largest position + 1 this forward can process (the RoPE table is sized for it). A KV cache for speculative
     * decoding needs {@code maxContext + maxRows} rows of capacity, since a block can hold more rows than positions.
     */
    @Override
    public int maxContext() {
        return maxContext;
    }

    @Override
    public int maxLogitRows() {
        return maxLogitRows;
    }

    /** Final-norm hidden states of the last forward, {@code [n][dim]}. */
    @Override
    public float[] hidden() {
        return hidden;
    }

    /** Logits of the rows requested in the last forward, in request order, {@code [count][vocab]}. */
    @Override
    public float[] logits() {
        return logits;
    }

    /**
     * Runs the block forward for one sequence.
     *
     * @param tokens    token ids of the n new rows
     * @param positions position id of each new row (RoPE)
     * @param n         number of new rows, at most {@code maxRows}
     * @param mask      which cache/new columns each row attends to
     * @param cache     the sequence's KV cache; grows by n
     * @param logitRows rows whose logits to compute (null = none)
     * @param nLogits   how many entries of {@code logitRows} to use
     */
    public void forward(int[] tokens, int[] positions, int n, AttentionMask mask, KvCache cache, int[] logitRows,
                        int nLogits) {
        forward(tokens, positions, n, mask, cache, logitRows, nLogits, null, null);
    }

    /**
     * The gated block forward for one sequence: as
     * {@link #forward(int[], int[], int, AttentionMask, KvCache, int[], int)}, plus mask-token ids and the adapter's
     * LoRA branch on rows with {@code gate[i]} set.
     */
    public void forward(int[] tokens, int[] positions, int n, AttentionMask mask, KvCache cache, int[] logitRows,
                        int nLogits, boolean[] gate, MtpAdapter adapter) {
        if (n < 1 || n > maxRows) {
            throw new IllegalArgumentException("block of " + n + " rows; this forward holds 1.." + maxRows);
        }
        single.clear();
        single.add(tokens, positions, gate, n, mask, cache, logitRows, logitRows == null ? 0 : nLogits);
        forward(single, adapter);
    }

    /**
     * The batched forward: every segment of {@code batch} (one sequence each) in one pass. Row r of the batch ends
     * in row r of {@link #hidden()}; the batch's logit rows, in order, in {@link #logits()}. Each sequence's rows,
     * K/V and logits are bit-for-bit those of a forward of that sequence alone, since every kernel works per row.
     */
    @Override
    public void forward(BlockBatch batch, MtpAdapter adapter) {
        int n = batch.rows;
        if (n < 1 || n > maxRows) {
            throw new IllegalArgumentException("batch of " + n + " rows; this forward holds 1.." + maxRows);
        }
        if (batch.logitCount > maxLogitRows) {
            throw new IllegalArgumentException(batch.logitCount + " logit rows; this forward holds " + maxLogitRows);
        }
        int[] tokens = batch.tokens;
        int[] positions = batch.positions;
        long attentionWork = 0;
        for (int s = 0; s < batch.segments; s++) {
            KvCache cache = hostCache(batch, s);
            int rows = batch.segmentStart[s + 1] - batch.segmentStart[s];
            int cacheLen = cache.length();
            if (cacheLen + rows > cache.capacity() || cacheLen + rows > maxContext + maxRows) {
                throw new IllegalArgumentException("block of " + rows + " rows after " + cacheLen
                        + " cached rows exceeds the KV cache (" + Math.min(cache.capacity(), maxContext + maxRows)
                        + ")");
            }
            attentionWork += (long) rows * (cacheLen + rows);
        }
        for (int s = 0; s < batch.segments; s++) {
            KvCache cache = hostCache(batch, s);
            cache.reserve(cache.length() + batch.segmentStart[s + 1] - batch.segmentStart[s]);
        }
        int dim = c.dim();
        float eps = c.rmsNormEps();
        int vocab = c.vocabSize();
        int masks = adapter == null ? 0 : adapter.k();
        int gated = 0;
        for (int i = 0; i < n; i++) {
            int t = tokens[i];
            if (t < 0 || t >= vocab + masks) {
                throw new IllegalArgumentException("token id " + t + " outside vocabulary of " + vocab
                        + (masks > 0 ? " + " + masks + " mask tokens" : ""));
            }
            if (positions[i] < 0 || positions[i] >= maxContext) {
                throw new IllegalArgumentException("position " + positions[i] + " outside [0, " + maxContext + ")");
            }
            if (t < vocab) {
                w.tokenEmbedding().readRow(t, x, i * dim);
            } else {
                System.arraycopy(adapter.maskEmbeddings(), (t - vocab) * dim, x, i * dim, dim);
            }
            if (adapter != null && batch.gate[i]) {
                gatedRows[gated++] = i;
            }
        }
        if (gated > 0 && loraLow.length < gated * adapter.config().rank()) {
            loraLow = new float[maxRows * adapter.config().rank()]; // once per adapter rank, not per step
        }
        int items = batch.segments * c.nHeads();
        long workPerItem = attentionWork * c.headDim() * 2 / batch.segments;
        for (int l = 0; l < c.nLayers(); l++) {
            layer(l, batch, adapter, gated, items, workPerItem);
        }
        attBatch = null;
        for (int s = 0; s < batch.segments; s++) {
            hostCache(batch, s).append(batch.segmentStart[s + 1] - batch.segmentStart[s]);
        }
        for (int i = 0; i < n; i++) {
            backend.rmsnorm(hidden, i * dim, x, i * dim, w.finalNorm(), dim, eps);
        }
        int nLogits = batch.logitCount;
        if (nLogits > 0) {
            for (int j = 0; j < nLogits; j++) {
                System.arraycopy(hidden, batch.logitRows[j] * dim, gathered, j * dim, dim);
            }
            backend.matmul(logits, gathered, nLogits, w.classifier());
        }
    }

    /**
     * One decoder layer over every row of the batch, in place on {@link #x}. A method of its own so that the JIT
     * compiles it (small, called once per layer) long before it would finish compiling the whole forward.
     */
    private void layer(int l, BlockBatch batch, MtpAdapter adapter, int gated, int items, long workPerItem) {
        int n = batch.rows;
        int[] positions = batch.positions;
        int dim = c.dim();
        int kvDim = c.kvDim();
        int qDim = c.qDim();
        int hid = c.hiddenDim();
        float eps = c.rmsNormEps();
        LayerWeights lw = w.layers()[l];
        for (int i = 0; i < n; i++) {
            backend.rmsnorm(xb, i * dim, x, i * dim, lw.attnNorm(), dim, eps);
        }
        qkvWeights[0] = lw.wq();
        qkvWeights[1] = lw.wk();
        qkvWeights[2] = lw.wv();
        backend.matmuls(qkvOut, xb, n, qkvWeights);
        if (gated > 0) {
            lora(adapter, l, LoraTarget.Q_PROJ, xb, q, gated);
            lora(adapter, l, LoraTarget.K_PROJ, xb, k, gated);
            lora(adapter, l, LoraTarget.V_PROJ, xb, v, gated);
        }
        if (lw.bq() != null) {
            for (int i = 0; i < n; i++) {
                addInPlace(q, i * qDim, lw.bq(), qDim);
                addInPlace(k, i * kvDim, lw.bk(), kvDim);
                addInPlace(v, i * kvDim, lw.bv(), kvDim);
            }
        }
        for (int s = 0; s < batch.segments; s++) {
            KvCache cache = hostCache(batch, s);
            float[] vc = cache.values(l);
            int first = batch.segmentStart[s];
            int slot = cache.length() - first; // cache slot of batch row i is slot + i
            for (int i = first; i < batch.segmentStart[s + 1]; i++) {
                rope.rotate(q, i * qDim, c.nHeads(), positions[i]);
                rope.rotate(k, i * kvDim, c.nKvHeads(), positions[i]);
                cache.putKey(l, slot + i, k, i * kvDim);
                System.arraycopy(v, i * kvDim, vc, (slot + i) * kvDim, kvDim);
            }
        }
        attLayer = l;
        attBatch = batch;
        backend.parallelFor(items, workPerItem, attentionTask);
        backend.matmul(xb2, attOut, n, lw.wo());
        if (gated > 0) {
            lora(adapter, l, LoraTarget.O_PROJ, attOut, xb2, gated);
        }
        addInPlace(x, 0, xb2, n * dim);
        for (int i = 0; i < n; i++) {
            backend.rmsnorm(xb, i * dim, x, i * dim, lw.ffnNorm(), dim, eps);
        }
        gateUpWeights[0] = lw.wGate();
        gateUpWeights[1] = lw.wUp();
        backend.matmuls(gateUpOut, xb, n, gateUpWeights);
        if (gated > 0) {
            lora(adapter, l, LoraTarget.GATE_PROJ, xb, hb, gated);
            lora(adapter, l, LoraTarget.UP_PROJ, xb, hb2, gated);
        }
        // row by row, the rows split over the threads: a row's elements meet the same SIMD lanes and scalar tail
        // whatever n is and whichever thread runs it
        siluHid = hid;
        backend.parallelFor(n, SILU_WORK_PER_ELEMENT * hid, siluTask);
        backend.matmul(xb2, hb, n, lw.wDown());
        if (gated > 0) {
            lora(adapter, l, LoraTarget.DOWN_PROJ, hb, xb2, gated);
        }
        addInPlace(x, 0, xb2, n * dim);
    }

    @Override
    public SequenceCache newCache(int capacity) {
        return new KvCache(c, capacity);
    }

    private static KvCache hostCache(BlockBatch batch, int s) {
        if (!(batch.caches[s] instanceof KvCache cache)) {
            throw new IllegalArgumentException("segment " + s + " holds a " + batch.caches[s].getClass().getSimpleName()
                    + "; the host forward runs on host KV caches (make them with its newCache)");
        }
        return cache;
    }

    /**
     * Adds {@code scaling · up(down(in_row))} to {@code out_row} for the gated rows only: their inputs are gathered,
     * projected through the low-rank pair, and the result added back row by row.
     */
    private void lora(MtpAdapter adapter, int layer, LoraTarget target, float[] in, float[] out, int gated) {
        LoraWeights lw = adapter.lora(layer, target);
        if (lw == null) {
            return;
        }
        int inDim = lw.in();
        int outDim = lw.out();
        for (int j = 0; j < gated; j++) {
            System.arraycopy(in, gatedRows[j] * inDim, loraIn, j * inDim, inDim);
        }
        backend.matmul(loraLow, loraIn, gated, lw.down(), inDim, lw.rank());
        backend.matmul(loraOut, loraLow, gated, lw.up(), lw.rank(), outDim);
        float scaling = adapter.config().scaling();
        for (int j = 0; j < gated; j++) {
            backend.axpy(out, gatedRows[j] * outDim, scaling, loraOut, j * outDim, outDim);
        }
    }

    private void siluRows(int from, int to) {
        for (int i = from; i < to; i++) {
            backend.siluMul(hb, hb2, i * siluHid, siluHid);
        }
    }

    /** Attention for items [from, to), item = segment × heads + head, over that segment's rows and cache. */
    private void attentionHeads(int from, int to) {
        int hd = c.headDim();
        int kvDim = c.kvDim();
        int qDim = c.qDim();
        int group = c.groupSize();
        int heads = c.nHeads();
        BlockBatch batch = attBatch;
        AttentionScratch scratch = attentionScratch.get();
        float[] att = scratch.scores;
        int[] visibleCols = scratch.columns;
        float scale = (float) (1.0 / Math.sqrt(hd));
        for (int item = from; item < to; item++) {
            int s = item / heads;
            int h = item % heads;
            int first = batch.segmentStart[s];
            int n = batch.segmentStart[s + 1] - first;
            KvCache cache = hostCache(batch, s);
            AttentionMask mask = batch.masks[s];
            // the forward has already written this block's K/V; the cache length moves only after all layers
            int cacheLen = cache.length();
            int cols = cacheLen + n;
            float[] kc = cache.keys(attLayer);
            float[] vc = cache.values(attLayer);
            boolean causal = mask == AttentionMask.CAUSAL;
            boolean wholeCache = mask.seesWholeCache();
            int kvOff = (h / group) * hd;
            float[] kT = cache.keysByPosition(attLayer);
            int stride = cache.positionStride();
            for (int i = 0; i < n; i++) {
                int qOff = (first + i) * qDim + h * hd;
                // Visible columns are gathered in order into a contiguous run (scores in att, indices in cols), so
                // the softmax and weighted sum depend only on which keys a row sees, not on where they sit in the
                // block: a real row inside an MTP block computes exactly what it computes in single-token decoding.
                // The leading run of columns every row sees (the whole causal prefix, or the cache) is scored
                // vectorised over positions from the position-major keys; the rest one by one. Both form a score
                // as the same FMA chain, so which path scored a column changes nothing.
                int limit = causal ? cacheLen + i + 1 : cols;
                int prefix = causal ? limit : wholeCache ? Math.min(cacheLen, limit) : 0;
                backend.scoresByPosition(att, 0, q, qOff, kT, kvOff, stride, hd, prefix, scale);
                float max = backend.max(att, 0, prefix); // columns [0, prefix) already hold 0 .. prefix-1
                int m = prefix;
                for (int t = prefix; t < limit; t++) {
                    if (mask.allows(i, t, cacheLen)) {
                        float sc = Backend.scoreFma(q, qOff, kc, t * kvDim + kvOff, hd, scale);
                        att[m] = sc;
                        visibleCols[m] = t;
                        m++;
                        if (sc > max) {
                            max = sc;
                        }
                    }
                }
                float sum = backend.expShiftSum(att, 0, m, max);
                float inv = 1.0f / sum;
                backend.weightedValues(attOut, qOff, att, visibleCols, m, inv, vc, kvDim, kvOff, hd);
                for (int j = prefix; j < m; j++) {
                    visibleCols[j] = j; // back to the identity the next row's prefix relies on
                }
            }
        }
    }

    /**
     * One thread's score row: the visible columns of the row being attended, and their indices. Between rows
     * {@code columns[j] == j}, so a row's leading run of visible columns needs no writing.
     */
    private static final class AttentionScratch {
        final float[] scores;
        final int[] columns;

        AttentionScratch(int size) {
            scores = new float[size];
            columns = new int[size];
            for (int j = 0; j < size; j++) {
                columns[j] = j;
            }
        }
    }

    private static void addInPlace(float[] dst, int off, float[] src, int n) {
        for (int i = 0; i < n; i++) {
            dst[off + i] += src[i];
        }
    }
}
