package io.mtpspark.engine.device;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.kvcache.SequenceCache;
import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.BlockBatch;
import io.mtpspark.engine.llama.BlockForward;
import io.mtpspark.engine.llama.GreedyVerdicts;
import io.mtpspark.engine.llama.RopeTable;
import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.Drafter;
import io.mtpspark.engine.mtp.LoraTarget;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.tensor.Backend;

import java.lang.ref.Cleaner;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The device-resident block forward: weights ({@link DeviceModel}), activations and the KV cache stay on the device
 * ({@link DeviceApi}: a GPU or its emulator); per step the host uploads one small descriptor (token ids, positions,
 * KV rows, per-sequence offsets, block mask words, logit and gated rows) and reads back the argmax of the logit rows,
 * those rows' logits and, when the batch has gated rows, the final hidden states the drafters read.
 *
 * <p>Per layer: RMSNorm writes the next GEMM's input type (BF16, or F32 in the F32-weights mode), one GEMM for
 * q|k|v, {@code qkv_rope} adds the bias, rotates q and k and writes k and v into the sequence's KV slot, the
 * grouped-K/V block attention reads each KV head's cache once per CTA for all rows and query heads of the group,
 * the o-projection GEMM adds into the F32 residual (beta = 1), RMSNorm, one GEMM for gate|up, SwiGLU, and the
 * down-projection GEMM adds into the residual. The gated-LoRA branch runs on the gated (mask) rows only: gather,
 * down GEMM, up GEMM, and an add into those rows (a select, never a multiply by a zero gate). The LM head runs over
 * the requested rows only, with argmax on the device.
 *
 * <p>GEMMs and every kernel work per row, and attention is a function of each row's ordered visible keys, so a
 * sequence's rows do not depend on what else is in the batch, and a real row of an MTP block computes what it
 * computes in single-token decoding (given a GEMM that is row-independent, which the emulator's is and cuBLAS's must
 * be shown to be on a GPU). One thread at a time; nothing is allocated per step.
 */
public final class DeviceForward implements BlockForward, AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();
    /** Threads of a {@code block_attention} CTA (MTP_ATT_THREADS) and the head width it supports. */
    static final int ATT_THREADS = 64;
    static final int MAX_HEAD_DIM = 128;

    private final DeviceModel dm;
    private final DeviceApi d;
    private final LlamaModel model;
    private final LlamaConfig c;
    private final Backend host;
    private final ElementType act;
    private final ElementType kv;
    private final int maxRows;
    private final int maxContext;
    private final int maxLogitRows;
    private final int slotCapacity;
    private final DeviceKvSlot[] slots;
    private final int nSlots;
    private final int maxMaskWords;
    private final long kvLayerBytes;

    // device memory
    private final long x;
    private final long xb;
    private final long qkv;
    private final long att;
    private final long gu;
    private final long sw;
    private final long hiddenDev;
    private final long lmIn;
    private final long logitsDev;
    private final long argmaxDev;
    private final long kPool;
    private final long vPool;
    private final long ropeCos;
    private final long ropeSin;
    private final long desc;
    private long loraIn;
    private long loraLow;
    private long loraLowAct;
    private long loraBranch;
    private int loraRank;

    // the step descriptor, in ints: sections at fixed offsets, the variable-stride mask words last
    private final int oTokens;
    private final int oPositions;
    private final int oKvRows;
    private final int oSeg;
    private final int oLogitRows;
    private final int oGated;
    private final int oMask;
    private final int oKeep;
    private final int oSegLogits;
    private final int oSample;
    private final HostBuffer hDesc;
    private final HostBuffer hHidden;
    private final HostBuffer hLogits;
    private final HostBuffer hArgmax;
    // views made once, read and written with absolute indexes
    private final IntBuffer descInts;
    private final IntBuffer argmaxInts;
    private final FloatBuffer logitFloats;
    private final FloatBuffer hiddenFloats;
    private final float[] hidden;
    private final float[] logits;
    private final int[] argmax;
    private int lastLogitRows;

    private final int kEmbed;
    private final int kRms;
    private final int kQkv;
    private final int kAtt;
    private final int kSwiglu;
    private final int kGather;
    private final int kLora;
    private final int kArgmax;
    private final int kToBf16;
    private final int kCompact;
    private final int kSample;
    private final int kNextBlock;
    private final LaunchArgs args = new LaunchArgs(16);
    private final Resources res;
    private final Cleaner.Cleanable cleanable;
    private long launchesLastForward;
    private DeviceVerifier verifier;
    private DeviceSamplerHead head;

    // CUDA graphs: one per padded step shape; the step being queued, padded when graphs are on
    private final StepGraphs graphs;
    private boolean graphsOn = graphsByDefault();
    private MtpAdapter graphAdapter;
    private final int[] shape = new int[7];
    private final StepGraphs.StepEnqueue enqueueStep = this::enqueueStep;
    /** Where padding rows write their K/V (one row past every slot) and gated-row padding points (row maxRows). */
    private final int scratchKvRow;
    private int stepRows;
    private int stepRealRows;
    private int stepSegments;
    private int stepSegRows;
    private int stepLogits;
    private int stepGated;
    private int stepPasses;
    private boolean stepSample;
    private MtpAdapter stepAdapter;
    private long stepMaskTable;
    private long queued;
    private boolean rowCountByValue;

    // the pipelined step: step t + 1 queued on the device before step t's results are read
    private boolean pipelineOn = pipelineByDefault();
    private boolean ahead;
    private long aheadLaunches;
    private final long resultsEvent;
    private final int[] predicted;
    private final int[] descCheck;
    private int predictedWords;
    private double aheadScore = 1; // running rate of guesses that held
    private int pipelinedSteps;
    private int discardedSteps;

    /**
     * @param maxRows      rows per forward over all sequences of a batch
     * @param maxContext   positions per sequence (capped at the model's)
     * @param maxLogitRows rows per forward whose logits can be asked for
     * @param slots        KV slots (sequences decoded together); each holds {@code maxContext + maxRows} rows
     * @param host         the backend for host-side work beside the forward (drafters)
     */
    public DeviceForward(DeviceModel dm, int maxRows, int maxContext, int maxLogitRows, int slots, Backend host) {
        this(dm, maxRows, maxContext, maxLogitRows, slots, host, dm.type());
    }

    /**
     * As {@link #DeviceForward(DeviceModel, int, int, int, int, Backend)} with the KV cache in {@code kvType}
     * (normally the weights' type; F32 with BF16 weights isolates the GEMM-input rounding in comparisons).
     */
    public DeviceForward(DeviceModel dm, int maxRows, int maxContext, int maxLogitRows, int slots, Backend host,
                         ElementType kvType) {
        if (maxRows < 1 || maxLogitRows < 1 || maxLogitRows > maxRows || slots < 1) {
            throw new IllegalArgumentException("device forward of " + maxRows + " rows, " + maxLogitRows
                    + " logit rows and " + slots + " KV slots");
        }
        this.dm = dm;
        this.d = dm.device();
        this.model = dm.model();
        this.c = model.config();
        this.host = host;
        this.act = dm.type();
        this.kv = kvType;
        if (c.headDim() > MAX_HEAD_DIM || c.headDim() % 2 != 0) {
            throw new EngineException("the device forward supports even head widths up to " + MAX_HEAD_DIM
                    + "; this model has " + c.headDim());
        }
        this.maxRows = maxRows;
        this.maxContext = Math.min(maxContext, c.seqLen());
        this.maxLogitRows = maxLogitRows;
        this.slotCapacity = this.maxContext + maxRows;
        this.nSlots = slots;
        this.slots = new DeviceKvSlot[slots];
        this.maxMaskWords = (maxRows + 31) / 32;
        DeviceMemoryPlan plan = new DeviceMemoryPlan(0, kvPoolBytes(c, kv, slots, slotCapacity),
                activationBytes(c, act, maxRows, this.maxContext, maxLogitRows, 0), 0);
        plan.check(d);
        res = new Resources(d);
        cleanable = CLEANER.register(this, res); // a forward nobody closes (a finished Spark task's) still frees
        int dim = c.dim();
        int qkvDim = c.qDim() + 2 * c.kvDim();
        int hid = c.hiddenDim();
        long rowsAlloc = maxRows + 1L; // + the scratch row padded gated-row entries point at
        x = res.malloc(rowsAlloc * dim * 4);
        xb = res.malloc(rowsAlloc * dim * act.bytes());
        qkv = res.malloc(rowsAlloc * qkvDim * 4);
        att = res.malloc(rowsAlloc * c.qDim() * act.bytes());
        gu = res.malloc(rowsAlloc * 2 * hid * 4);
        sw = res.malloc(rowsAlloc * hid * act.bytes());
        hiddenDev = res.malloc((long) maxRows * dim * 4);
        lmIn = res.malloc((long) maxLogitRows * dim * act.bytes());
        logitsDev = res.malloc((long) maxLogitRows * c.vocabSize() * 4);
        argmaxDev = res.malloc((long) maxLogitRows * 4);
        scratchKvRow = slots * slotCapacity;
        kvLayerBytes = ((long) slots * slotCapacity + 1) * c.kvDim() * kv.bytes();
        kPool = res.malloc(kvLayerBytes * c.nLayers());
        vPool = res.malloc(kvLayerBytes * c.nLayers());
        RopeTable rope = new RopeTable(c, this.maxContext);
        int half = c.headDim() / 2;
        ropeCos = res.malloc((long) this.maxContext * half * 4);
        ropeSin = res.malloc((long) this.maxContext * half * 4);
        oTokens = 0;
        oPositions = oTokens + maxRows;
        oKvRows = oPositions + maxRows;
        oSeg = oKvRows + maxRows;
        oLogitRows = oSeg + 4 * slots;
        oGated = oLogitRows + maxLogitRows;
        oKeep = oGated + maxRows;
        oSegLogits = oKeep + maxRows;
        oSample = oSegLogits + 2 * slots;
        oMask = oSample + 5 * slots;
        int descWords = oMask + maxRows * maxMaskWords;
        desc = res.malloc((long) descWords * 4);
        hDesc = res.pinned((long) descWords * 4);
        hHidden = res.pinned((long) maxRows * dim * 4);
        hLogits = res.pinned((long) maxLogitRows * c.vocabSize() * 4);
        hArgmax = res.pinned((long) maxLogitRows * 4);
        descInts = hDesc.bytes().asIntBuffer();
        argmaxInts = hArgmax.bytes().asIntBuffer();
        logitFloats = hLogits.bytes().asFloatBuffer();
        hiddenFloats = hHidden.bytes().asFloatBuffer();
        hidden = new float[maxRows * dim];
        logits = new float[maxLogitRows * c.vocabSize()];
        argmax = new int[maxLogitRows];
        upload(rope.cosTable(), ropeCos);
        upload(rope.sinTable(), ropeSin);
        kEmbed = d.kernel("embed_tokens");
        kRms = d.kernel("rmsnorm_to");
        kQkv = d.kernel("qkv_rope");
        kAtt = d.kernel("block_attention");
        kSwiglu = d.kernel("swiglu_to");
        kGather = d.kernel("gather16");
        kLora = d.kernel("lora_rows");
        kArgmax = d.kernel("argmax_rows");
        kToBf16 = d.kernel("to_bf16");
        kCompact = d.kernel("kv_compact");
        kSample = d.kernel("spec_sample");
        kNextBlock = d.kernel("mtp_next_block");
        resultsEvent = d.newEvent();
        predicted = new int[descWords];
        descCheck = new int[descWords];
        graphs = new StepGraphs(d);
        d.sync();
    }

    /** Device bytes of a KV pool of {@code slots} slots of {@code rows} rows each. */
    static long kvPoolBytes(LlamaConfig c, ElementType type, int slots, int rows) {
        return 2L * c.nLayers() * ((long) slots * rows + 1) * c.kvDim() * type.bytes(); // + padding's scratch row
    }

    /** Device bytes of a forward's activations, descriptor and RoPE tables (LoRA scratch when loraRank > 0). */
    static long activationBytes(LlamaConfig c, ElementType t, int rows, int context, int logitRows, int loraRank) {
        long dim = c.dim();
        long qkvDim = c.qDim() + 2L * c.kvDim();
        long hid = c.hiddenDim();
        long r1 = rows + 1L; // the scratch row
        long b = r1 * dim * 4 + r1 * dim * t.bytes() + r1 * qkvDim * 4 + r1 * c.qDim() * (long) t.bytes()
                + r1 * 2 * hid * 4 + r1 * hid * t.bytes() + rows * dim * 4 + logitRows * dim * t.bytes()
                + (long) logitRows * c.vocabSize() * 4 + logitRows * 4L;
        b += 2L * context * (c.headDim() / 2) * 4;
        b += 4L * (5L * rows + logitRows + (long) rows * ((rows + 31) / 32) + 4L * rows + 7L * rows);
        if (loraRank > 0) {
            long widest = Math.max(Math.max(dim, c.qDim()), 2 * hid);
            b += rows * widest * (t.bytes() + 4L) + rows * (long) loraRank * (4 + t.bytes());
        }
        return b;
    }

    private void upload(float[] values, long dst) {
        try (HostBuffer h = d.pinned((long) values.length * 4)) {
            h.bytes().asFloatBuffer().put(values);
            d.copyToDevice(dst, h, 0, (long) values.length * 4);
            d.sync();
        }
    }

    @Override
    public LlamaModel model() {
        return model;
    }

    @Override
    public Backend backend() {
        return host;
    }

    @Override
    public int maxRows() {
        return maxRows;
    }

    @Override
    public int maxContext() {
        return maxContext;
    }

    @Override
    public int maxLogitRows() {
        return maxLogitRows;
    }

    public DeviceModel deviceModel() {
        return dm;
    }

    @Override
    public SequenceCache newCache(int capacity) {
        if (capacity > slotCapacity) {
            throw new IllegalArgumentException("KV cache of " + capacity + " rows; this device forward's slots hold "
                    + slotCapacity);
        }
        for (int s = 0; s < nSlots; s++) {
            if (slots[s] == null) {
                slots[s] = new DeviceKvSlot(this, s, capacity);
                return slots[s];
            }
        }
        throw new EngineException("all " + nSlots + " KV slots of this device forward are taken; make it with more"
                + " slots (the batch size)");
    }

    /** Gives a slot back to the pool (its cache must no longer be used). */
    public void release(SequenceCache cache) {
        DeviceKvSlot s = slotOf(cache, 0);
        slots[s.slot()] = null;
    }

    @Override
    public float[] hidden() {
        return hidden;
    }

    @Override
    public float[] logits() {
        if (verifier != null) {
            throw new IllegalStateException("this device forward verifies greedily on the device: logits stay there"
                    + " (use verdicts(), or a forward without verifyOnDevice for sampling at temperature > 0)");
        }
        return logits;
    }

    /**
     * From now on each forward verifies and compacts the KV cache on the device ({@link DeviceVerifier}), with
     * {@code stopIds} as the stop tokens: greedily, or by speculative sampling ({@code spec_sample}) for segments whose
     * {@link BlockBatch#sampling} has temperature > 0; only tokens and verdicts come back to the host.
     */
    public DeviceForward verifyOnDevice(int[] stopIds) {
        synchronized (d) {
            if (verifier != null) {
                verifier.close();
            }
            graphs.clear();
            ahead = false;
            verifier = new DeviceVerifier(d, nSlots, maxLogitRows, stopIds, argmax);
        }
        return this;
    }

    /**
     * From now on each forward with mask rows also runs {@code adapter}'s sampler head on the device
     * ({@link DeviceSamplerHead}) for the next step's drafts; give decoders {@link #deviceDrafter()}. Hidden states
     * then stay on the device too ({@link #hidden()} is not filled). Needs {@link #verifyOnDevice}.
     */
    public DeviceForward draftOnDevice(MtpAdapter adapter) {
        if (verifier == null) {
            throw new IllegalStateException("drafting on the device needs verifyOnDevice first (it drafts from the"
                    + " verified row)");
        }
        synchronized (d) {
            if (head != null) {
                head.close();
            }
            graphs.clear();
            ahead = false;
            head = new DeviceSamplerHead(dm, adapter, nSlots);
        }
        return this;
    }

    /** The drafts {@link #draftOnDevice} made in the last forward, as a decoder's drafter. */
    public Drafter deviceDrafter() {
        if (head == null) {
            throw new IllegalStateException("this device forward does not draft on the device (draftOnDevice)");
        }
        return head.drafter();
    }

    @Override
    public GreedyVerdicts verdicts() {
        return verifier == null ? null : verifier.view();
    }

    /** A forward that verifies on the device also samples there ({@code spec_sample}) at temperature > 0. */
    @Override
    public boolean samplesOnDevice() {
        return verifier != null;
    }

    /** The device argmax of each logit row of the last forward (ties to the lowest id, as {@code Sampler.argmax}). */
    public int[] argmax() {
        return argmax;
    }

    /** Logit rows of the last forward. */
    public int logitRows() {
        return lastLogitRows;
    }

    /** Kernel launches plus GEMMs the last forward queued. */
    public long launchesLastForward() {
        return launchesLastForward;
    }

    private DeviceKvSlot slotOf(SequenceCache cache, int segment) {
        if (!(cache instanceof DeviceKvSlot s) || s.owner() != this) {
            throw new IllegalArgumentException("segment " + segment + " holds a KV cache this device forward did not"
                    + " make (use its newCache)");
        }
        return s;
    }

    @Override
    public void forward(BlockBatch batch, MtpAdapter adapter) {
        synchronized (d) { // forwards of several tasks may share one device; its calls are one thread at a time
            run(batch, adapter);
        }
    }

    private void run(BlockBatch batch, MtpAdapter adapter) {
        int n = batch.rows();
        int segments = batch.segments();
        int nLogits = batch.logitCount();
        if (n < 1 || n > maxRows) {
            throw new IllegalArgumentException("batch of " + n + " rows; this forward holds 1.." + maxRows);
        }
        if (nLogits > maxLogitRows) {
            throw new IllegalArgumentException(nLogits + " logit rows; this forward holds " + maxLogitRows);
        }
        if (segments > nSlots) {
            throw new IllegalArgumentException(segments + " sequences; this forward has " + nSlots + " KV slots");
        }
        int vocab = c.vocabSize();
        int masks = adapter == null ? 0 : adapter.k();
        IntBuffer di = descInts;
        int maxSegRows = 0;
        for (int s = 0; s < segments; s++) {
            maxSegRows = Math.max(maxSegRows, batch.segmentStart(s + 1) - batch.segmentStart(s));
        }
        // with graphs on, every count is padded to its bucket so one graph serves every step of the padded shape
        boolean pad = graphsOn;
        int rowsB = pad ? bucket(n, maxRows) : n;
        int segB = pad ? bucket(segments, nSlots) : segments;
        int segRowsB = pad ? bucket(maxSegRows, maxRows) : maxSegRows;
        int logitsB = pad && nLogits > 0 ? bucket(nLogits, maxLogitRows) : nLogits;
        int stride = (segRowsB + 31) / 32;
        int gated = 0;
        for (int s = 0; s < segments; s++) {
            DeviceKvSlot slot = slotOf(batch.cache(s), s);
            AttentionMask mask = batch.mask(s);
            if (!mask.seesWholeCache()) {
                throw new IllegalArgumentException("segment " + s + ": the device forward takes masks where every"
                        + " row sees the whole cache (causal or cache + block-local)");
            }
            int first = batch.segmentStart(s);
            int rows = batch.segmentStart(s + 1) - first;
            int cacheLen = slot.length();
            if (cacheLen + rows > slot.capacity()) {
                throw new IllegalArgumentException("block of " + rows + " rows after " + cacheLen
                        + " cached rows exceeds the KV cache (" + slot.capacity() + ")");
            }
            int base = slot.slot() * slotCapacity;
            di.put(oSeg + 4 * s, first).put(oSeg + 4 * s + 1, rows).put(oSeg + 4 * s + 2, cacheLen)
                    .put(oSeg + 4 * s + 3, base);
            for (int i = 0; i < rows; i++) {
                int r = first + i;
                int t = batch.token(r);
                if (t < 0 || t >= vocab + masks) {
                    throw new IllegalArgumentException("token id " + t + " outside vocabulary of " + vocab
                            + (masks > 0 ? " + " + masks + " mask tokens" : ""));
                }
                int pos = batch.position(r);
                if (pos < 0 || pos >= maxContext) {
                    throw new IllegalArgumentException("position " + pos + " outside [0, " + maxContext + ")");
                }
                di.put(oTokens + r, t).put(oPositions + r, pos).put(oKvRows + r, base + cacheLen + i);
                if (adapter != null && batch.gated(r)) {
                    di.put(oGated + gated++, r);
                }
                for (int w = 0; w < stride; w++) {
                    int bits = 0;
                    for (int b = 0; b < 32; b++) {
                        int j = w * 32 + b;
                        if (j < rows && mask.allows(i, cacheLen + j, cacheLen)) {
                            bits |= 1 << b;
                        }
                    }
                    di.put(oMask + r * stride + w, bits);
                }
            }
        }
        for (int j = 0; j < nLogits; j++) {
            di.put(oLogitRows + j, batch.logitRow(j));
        }
        int gatedB = pad && gated > 0 ? bucket(gated, maxRows) : gated;
        // padding: rows of token 0 at position 0 writing K/V into the scratch row, sequences of no rows (every
        // kernel skips them), logit rows repeating row 0, gated rows naming the scratch activation row
        for (int r = n; r < rowsB; r++) {
            di.put(oTokens + r, 0).put(oPositions + r, 0).put(oKvRows + r, scratchKvRow);
        }
        for (int s = segments; s < segB; s++) {
            di.put(oSeg + 4 * s, 0).put(oSeg + 4 * s + 1, 0).put(oSeg + 4 * s + 2, 0).put(oSeg + 4 * s + 3, 0);
        }
        for (int j = nLogits; j < logitsB; j++) {
            di.put(oLogitRows + j, 0);
        }
        for (int g = gated; g < gatedB; g++) {
            di.put(oGated + g, maxRows);
        }
        if (head != null && adapter != null && adapter != head.adapter()) {
            throw new IllegalArgumentException("this forward drafts on the device with another adapter than the"
                    + " batch's; call draftOnDevice with this adapter");
        }
        if (adapter != graphAdapter) {
            graphs.clear(); // the graphs captured the other adapter's mask table and LoRA weights
            graphAdapter = adapter;
        }
        long maskTable = adapter == null ? desc : dm.useAdapter(adapter); // any valid pointer when there are no masks
        if (gated > 0) {
            ensureLoraScratch(adapter.config().rank());
        }
        boolean verify = verifier != null && nLogits > 0;
        boolean draft = verify && head != null && gated > 0;
        boolean sample = false;
        if (verify) {
            verifier.prepare(batch, di, oSegLogits, segB);
            for (int s = 0; s < segB; s++) {
                SamplingOptions o = s < segments ? batch.sampling(s) : SamplingOptions.GREEDY;
                sample |= !o.greedy();
                di.put(oSample + 5 * s, Float.floatToRawIntBits(o.temperature())).put(oSample + 5 * s + 1, o.topK())
                        .put(oSample + 5 * s + 2, Float.floatToRawIntBits(o.topP()))
                        .put(oSample + 5 * s + 3, (int) o.seed()).put(oSample + 5 * s + 4, (int) (o.seed() >>> 32));
            }
        }
        int words = oMask + rowsB * stride;
        int passes = draft ? head.passes(batch) : -1;
        // the step queued ahead on the device (pipelined) is this one when its descriptor is the one just built
        boolean sameStep = stepRows == rowsB && stepRealRows == n && stepSegments == segB && stepSegRows == segRowsB
                && stepLogits == logitsB && stepGated == gatedB && stepPasses == passes && stepSample == sample
                && stepAdapter == adapter && stepMaskTable == maskTable;
        boolean confirmed = ahead && sameStep && words == predictedWords && descriptorIsPredicted(words);
        if (ahead) {
            if (confirmed) {
                pipelinedSteps++;
                aheadScore = 0.75 * aheadScore + 0.25;
            } else {
                discardedSteps++; // it ran on a guess that did not hold: its rows lie past every cache's length
                aheadScore = 0.75 * aheadScore;
            }
            ahead = false;
        } else {
            aheadScore = Math.min(1, aheadScore + 0.02); // try again now and then
        }
        if (confirmed) {
            launchesLastForward = aheadLaunches;
        } else {
            d.copyToDevice(desc, hDesc, 0, (long) words * 4);
            stepRows = rowsB;
            stepRealRows = n;
            stepSegments = segB;
            stepSegRows = segRowsB;
            stepLogits = logitsB;
            stepGated = gatedB;
            stepPasses = passes;
            stepSample = sample;
            stepAdapter = adapter;
            stepMaskTable = maskTable;
            shape[0] = rowsB;
            shape[1] = segB;
            shape[2] = segRowsB;
            shape[3] = logitsB;
            shape[4] = gatedB;
            shape[5] = passes;
            shape[6] = sample ? 1 : 0;
            launchesLastForward = queueStep();
        }
        // copies back, outside the graph: only the real rows' results
        if (nLogits > 0) {
            d.copyToHost(hArgmax, 0, argmaxDev, (long) nLogits * 4);
            if (verifier == null) {
                d.copyToHost(hLogits, 0, logitsDev, (long) nLogits * vocab * 4);
            }
        }
        if (verify) {
            verifier.copyBack(segments);
        }
        if (draft) {
            head.copyBack();
        }
        boolean hiddenToHost = gated > 0 && head == null;
        if (hiddenToHost) {
            d.copyToHost(hHidden, 0, hiddenDev, (long) n * c.dim() * 4);
        }
        // pipelined: step t + 1, built on the device from this step's verdicts and drafts, is queued before this
        // step's results are read (the host waits for the copies only); verified against the host's own next block
        // a decoder whose next block is often another layout (linear after a rejection) stops being guessed for
        boolean queueAhead = pipelineOn && verify && (head != null ? draft : gated == 0) && aheadScore >= 0.5
                && steadyState(batch);
        if (queueAhead) {
            d.recordEvent(resultsEvent);
            d.launch(kNextBlock, segB, 1, 1, 32, args.reset().ptr(desc + 4L * oSeg).ptr(desc + 4L * oPositions)
                    .ptr(desc + 4L * oKvRows).ptr(desc + 4L * oTokens).ptr(desc + 4L * oLogitRows)
                    .ptr(desc + 4L * oSegLogits).ptr(verifier.verdictDevice()).ptr(argmaxDev)
                    .ptr(head != null ? head.draftsDevice() : argmaxDev).i32(head != null ? head.maxDrafts() : 0));
            aheadLaunches = queueStep();
            d.awaitEvent(resultsEvent);
        } else {
            d.sync(); // the copies to the host are asynchronous on a GPU: read the pinned buffers only after this
        }
        if (nLogits > 0) {
            argmaxInts.get(0, argmax, 0, nLogits);
            if (verifier == null) {
                logitFloats.get(0, logits, 0, nLogits * vocab);
            }
        }
        if (hiddenToHost) {
            hiddenFloats.get(0, hidden, 0, n * c.dim());
        }
        if (verify) {
            verifier.finish(batch);
        }
        if (head != null) {
            if (draft) {
                head.finish(batch, verifier.segmentVerdicts(), verifier.segmentFirstLogit(), argmax);
            } else {
                head.clear();
            }
        }
        if (queueAhead) {
            predictNext(batch, words);
            ahead = true;
        }
        lastLogitRows = nLogits;
        for (int s = 0; s < segments; s++) {
            ((DeviceKvSlot) batch.cache(s)).append(batch.segmentStart(s + 1) - batch.segmentStart(s));
        }
    }

    /**
     * Whether the next step is likely this one advanced (what {@code mtp_next_block} assumes): every sequence
     * verifies real rows starting at its block's first row, i.e. decodes rather than ends a prompt, and its drafts
     * are the device's (without the sampler head on the device, only single-row steps qualify).
     */
    private boolean steadyState(BlockBatch batch) {
        int[] first = verifier.segmentFirstLogit();
        int[] count = verifier.segmentLogitCount();
        for (int s = 0; s < batch.segments(); s++) {
            if (count[s] == 0 || batch.logitRow(first[s]) != batch.segmentStart(s) || head == null && count[s] > 1) {
                return false;
            }
        }
        return true;
    }

    /** Queues the step of the current step fields: replayed from its graph, or launch by launch. */
    private long queueStep() {
        return graphsOn ? graphs.run(shape, enqueueStep) : enqueueStep();
    }

    /**
     * The descriptor {@code mtp_next_block} built on the device for the step queued ahead, computed here from this
     * step's descriptor and results by the same rule: each sequence's rows and cache advance past real row 0's offset
     * plus a + 1, real row 0 takes the token verification gave real row a, real rows 1.. the device's drafts.
     */
    private void predictNext(BlockBatch batch, int words) {
        descInts.get(0, predicted, 0, words);
        predictedWords = words;
        int[] v = verifier.segmentVerdicts();
        int[] firstLogit = verifier.segmentFirstLogit();
        int[] count = verifier.segmentLogitCount();
        for (int s = 0; s < batch.segments(); s++) {
            if (count[s] == 0) {
                continue;
            }
            int a = v[4 * s];
            int shift = v[4 * s + 3] + a + 1;
            int first = batch.segmentStart(s);
            int rows = batch.segmentStart(s + 1) - first;
            for (int r = first; r < first + rows; r++) {
                predicted[oPositions + r] += shift;
                predicted[oKvRows + r] += shift;
            }
            predicted[oSeg + 4 * s + 2] += shift;
            for (int g = 0; g < count[s]; g++) {
                predicted[oTokens + batch.logitRow(firstLogit[s] + g)] = g == 0 ? argmax[firstLogit[s] + a]
                        : head.draft(s, g - 1);
            }
        }
    }

    private boolean descriptorIsPredicted(int words) {
        descInts.get(0, descCheck, 0, words);
        return Arrays.equals(descCheck, 0, words, predicted, 0, words);
    }

    /**
     * The bucket a count is padded to when graphs are on: powers of two up to 16, then multiples of 16 (at most a
     * sixth wasted beyond 96 rows), capped at {@code max}.
     */
    static int bucket(int n, int max) {
        int b = n <= 1 ? 1 : n <= 16 ? Integer.highestOneBit(n - 1) << 1 : (n + 15) / 16 * 16;
        return Math.min(Math.max(b, n), max);
    }

    /** {@code -Dmtp.device.graphs} (default true): whether new device forwards run their steps as CUDA graphs. */
    public static boolean graphsByDefault() {
        return Boolean.parseBoolean(System.getProperty("mtp.device.graphs", "true"));
    }

    /** Whether steps run as CUDA graphs ({@link #graphsByDefault} unless set by {@link #graphs(boolean)}). */
    public boolean graphs() {
        return graphsOn;
    }

    /** Turns CUDA graphs on or off for the following steps (off: every step queued eagerly and unpadded). */
    public DeviceForward graphs(boolean on) {
        synchronized (d) {
            graphsOn = on;
            graphs.clear();
        }
        return this;
    }

    /** {@code -Dmtp.device.pipeline} (default true): whether new device forwards queue steps ahead. */
    public static boolean pipelineByDefault() {
        return Boolean.parseBoolean(System.getProperty("mtp.device.pipeline", "true"));
    }

    /**
     * Turns the pipelined step on or off: when on, a forward that verifies (and drafts, if it has mask rows) on the
     * device queues the next step, built on the device ({@code mtp_next_block}), before it reads this step's
     * results, and the next {@link #forward} uses it when the host's block is the one predicted.
     */
    public DeviceForward pipeline(boolean on) {
        synchronized (d) {
            pipelineOn = on;
            ahead = false;
        }
        return this;
    }

    /** Steps that ran ahead and were used, and those discarded (the host's block differed), so far. */
    public int[] pipelineCounts() {
        return new int[]{pipelinedSteps, discardedSteps};
    }

    /** Graphs captured and steps replayed from them so far, for tests and bench records. */
    public int[] graphCounts() {
        return new int[]{graphs.captured(), graphs.replayed()};
    }

    /**
     * A planted capture bug for the tests that guard graph replay: the embedding kernel gets the step's real row
     * count by value instead of the padded one, so a replayed graph embeds only as many rows as the step it was
     * captured from. Eager execution stays correct; replay equals eager only when every per-step value is read
     * from the descriptor.
     */
    void plantRowCountByValue() {
        rowCountByValue = true;
    }

    private void ensureLoraScratch(int rank) {
        if (rank <= loraRank) {
            return;
        }
        freeLora();
        graphs.clear(); // the graphs captured the old scratch
        long widest = Math.max(Math.max(c.dim(), c.qDim()), 2L * c.hiddenDim());
        loraIn = res.malloc(maxRows * widest * act.bytes());
        loraBranch = res.malloc(maxRows * widest * 4);
        loraLow = res.malloc((long) maxRows * rank * 4);
        loraLowAct = res.malloc((long) maxRows * rank * act.bytes());
        loraRank = rank;
    }

    private void freeLora() {
        if (loraRank > 0) {
            res.free(loraIn);
            res.free(loraBranch);
            res.free(loraLow);
            res.free(loraLowAct);
            loraRank = 0;
        }
    }

    /**
     * Queues the whole step (forward, then verification, compaction and drafts when on) from the step fields
     * alone: every by-value argument is a function of the padded shape or of this forward's fixed buffers, so the
     * launches can be captured once and replayed for any step of that shape. Returns the launches queued.
     */
    private long enqueueStep() {
        queued = 0;
        int n = stepRows;
        int segments = stepSegments;
        int nLogits = stepLogits;
        int gated = stepGated;
        int stride = (stepSegRows + 31) / 32;
        MtpAdapter adapter = stepAdapter;
        long maskTable = stepMaskTable;
        int dim = c.dim();
        int qDim = c.qDim();
        int kvDim = c.kvDim();
        int qkvDim = qDim + 2 * kvDim;
        int hid = c.hiddenDim();
        float eps = c.rmsNormEps();
        int a = act.code();
        long descTokens = desc + 4L * oTokens;
        long descPositions = desc + 4L * oPositions;
        long descKvRows = desc + 4L * oKvRows;
        long descSeg = desc + 4L * oSeg;
        long descMask = desc + 4L * oMask;
        long descGated = desc + 4L * oGated;
        long descLogitRows = desc + 4L * oLogitRows;
        int embedRows = rowCountByValue ? stepRealRows : n; // the planted bug (tests only)
        launch(kEmbed, embedRows, 1, 1, rowThreads(dim), args.reset().ptr(x).ptr(descTokens).i32(embedRows)
                .ptr(dm.embedding())
                .i32(act.code()).ptr(maskTable).i32(c.vocabSize()).i32(dim));
        int group = c.groupSize();
        int attTiles = (stepSegRows * group + ATT_THREADS - 1) / ATT_THREADS;
        float scale = (float) (1.0 / Math.sqrt(c.headDim()));
        for (int l = 0; l < c.nLayers(); l++) {
            DeviceModel.Layer w = dm.layer(l);
            long kc = kPool + l * kvLayerBytes;
            long vc = vPool + l * kvLayerBytes;
            rmsnorm(xb, x, 0, 0, w.attnNorm(), n);
            matmul(qkv, 0f, w.wqkv(), xb, n, dim, qkvDim);
            if (gated > 0) {
                lora(adapter, l, LoraTarget.Q_PROJ, xb, dim, qkv, qkvDim, 0, gated, descGated);
                lora(adapter, l, LoraTarget.K_PROJ, xb, dim, qkv, qkvDim, qDim, gated, descGated);
                lora(adapter, l, LoraTarget.V_PROJ, xb, dim, qkv, qkvDim, qDim + kvDim, gated, descGated);
            }
            int pairs = (c.nHeads() + 2 * c.nKvHeads()) * (c.headDim() / 2);
            launch(kQkv, n, 1, 1, rowThreads(pairs), args.reset().ptr(qkv).i32(n)
                    .ptr(w.bqkv() == 0 ? qkv : w.bqkv()).i32(w.bqkv() == 0 ? 0 : 1).ptr(descPositions)
                    .ptr(descKvRows).ptr(kc).ptr(vc).i32(kv.code()).i32(c.nHeads()).i32(c.nKvHeads()).i32(c.headDim())
                    .ptr(ropeCos).ptr(ropeSin));
            launch(kAtt, c.nKvHeads(), segments, attTiles, ATT_THREADS, args.reset().ptr(att).i32(a).ptr(qkv)
                    .i32(qkvDim).ptr(kc).ptr(vc).i32(kv.code()).ptr(descSeg).ptr(descMask).i32(stride).i32(c.nHeads())
                    .i32(c.nKvHeads()).i32(c.headDim()).f32(scale));
            matmul(x, 1f, w.wo(), att, n, qDim, dim); // the residual add is the GEMM's beta = 1
            if (gated > 0) {
                lora(adapter, l, LoraTarget.O_PROJ, att, qDim, x, dim, 0, gated, descGated);
            }
            rmsnorm(xb, x, 0, 0, w.ffnNorm(), n);
            matmul(gu, 0f, w.w13(), xb, n, dim, 2 * hid);
            if (gated > 0) {
                lora(adapter, l, LoraTarget.GATE_PROJ, xb, dim, gu, 2 * hid, 0, gated, descGated);
                lora(adapter, l, LoraTarget.UP_PROJ, xb, dim, gu, 2 * hid, hid, gated, descGated);
            }
            long elems = (long) n * hid;
            launch(kSwiglu, elementwiseGrid(elems), 1, 1, 256, args.reset().ptr(sw).i32(a).ptr(gu).i32(n).i32(hid));
            matmul(x, 1f, w.wDown(), sw, n, hid, dim);
            if (gated > 0) {
                lora(adapter, l, LoraTarget.DOWN_PROJ, sw, hid, x, dim, 0, gated, descGated);
            }
        }
        if (gated > 0) {
            launch(kRms, n, 1, 1, rowThreads(dim), args.reset().ptr(hiddenDev).i32(ElementType.F32.code()).ptr(x)
                    .ptr(descLogitRows).i32(0).ptr(dm.finalNorm()).i32(n).i32(dim).f32(eps));
        }
        if (nLogits > 0) {
            rmsnorm(lmIn, x, descLogitRows, 1, dm.finalNorm(), nLogits);
            matmul(logitsDev, 0f, dm.classifier(), lmIn, nLogits, dim, c.vocabSize());
            if (stepSample) { // speculative sampling: the tokens verification treats as each row's argmax
                launch(kSample, segments, 1, 1, rowThreads(c.vocabSize()), args.reset().ptr(logitsDev)
                        .i32(c.vocabSize()).ptr(descTokens).ptr(descPositions).ptr(descLogitRows).ptr(desc + 4L * oSegLogits)
                        .ptr(desc + 4L * oSample).ptr(argmaxDev));
            } else {
                launch(kArgmax, nLogits, 1, 1, 256, args.reset().ptr(logitsDev).i32(nLogits).i32(c.vocabSize())
                        .ptr(argmaxDev));
            }
            if (verifier != null) {
                long rowBytes = (long) c.kvDim() * kv.bytes();
                verifier.enqueue(segments, argmaxDev, descTokens, descLogitRows, desc + 4L * oSegLogits, descSeg,
                        c.vocabSize(), kPool, vPool, c.nLayers(), (int) (rowBytes / 4), kvLayerBytes / 4,
                        rowThreads((int) (rowBytes / 4)));
                queued += 2;
                if (head != null && gated > 0) {
                    head.enqueue(segments, stepPasses, hiddenDev, descTokens, descSeg, desc + 4L * oSegLogits,
                            verifier.verdictDevice(), argmaxDev, rowThreads(c.dim()));
                    queued += head.launches();
                }
            }
        }
        return queued;
    }

    private void rmsnorm(long out, long in, long rowIndex, int useIndex, long weight, int rows) {
        int dim = c.dim();
        launch(kRms, rows, 1, 1, rowThreads(dim), args.reset().ptr(out).i32(act.code()).ptr(in)
                .ptr(rowIndex == 0 ? in : rowIndex).i32(useIndex).ptr(weight).i32(rows).i32(dim).f32(c.rmsNormEps()));
    }

    /**
     * Row-major {@code out[r][o] (+)= in[r] · w[o]} for {@code rows} rows, {@code w} as {@code [outDim][inDim]}: the
     * column-major {@code outᵀ = w · inᵀ} (cuda.GemmShape), {@code beta} 1 to add into {@code out}.
     */
    private void matmul(long out, float beta, long w, long in, int rows, int inDim, int outDim) {
        d.gemm(true, false, outDim, rows, inDim, 1f, w, act, inDim, in, act, inDim, beta, out, ElementType.F32,
                outDim);
        queued++;
    }

    /**
     * The gated-LoRA branch of one target: the gated rows of {@code in} (width inDim, activation type) are gathered,
     * projected down and up, and {@code scaling ×} the result is added to columns {@code colOffset..} of those rows
     * of {@code out} (F32, rows of {@code outStride}).
     */
    private void lora(MtpAdapter adapter, int layer, LoraTarget target, long in, int inDim, long out, int outStride,
                      int colOffset, int gated, long gatedRows) {
        DeviceModel.Lora lw = dm.lora(layer, target);
        if (lw == null) {
            return;
        }
        int units = inDim * act.bytes() / 2;
        launch(kGather, gated, 1, 1, rowThreads(units), args.reset().ptr(loraIn).ptr(in).ptr(gatedRows).i32(gated)
                .i32(units));
        d.gemm(true, false, lw.rank(), gated, lw.in(), 1f, lw.down(), act, lw.in(), loraIn, act, lw.in(), 0f,
                loraLow, ElementType.F32, lw.rank());
        long low = loraLow;
        if (act == ElementType.BF16) {
            int m = gated * lw.rank();
            launch(kToBf16, elementwiseGrid(m), 1, 1, 256, args.reset().ptr(loraLow).ptr(loraLowAct).i32(m));
            low = loraLowAct;
        }
        d.gemm(true, false, lw.out(), gated, lw.rank(), 1f, lw.up(), act, lw.rank(), low, act, lw.rank(), 0f,
                loraBranch, ElementType.F32, lw.out());
        queued += 2;
        launch(kLora, gated, 1, 1, rowThreads(lw.out()), args.reset().ptr(out).ptr(loraBranch).ptr(gatedRows)
                .i32(gated).i32(lw.out()).i32(outStride).i32(colOffset).f32(adapter.config().scaling()));
    }

    private void launch(int kernel, int gx, int gy, int gz, int block, LaunchArgs a) {
        d.launch(kernel, gx, gy, gz, block, a);
        queued++;
    }

    /** Threads for a kernel that strides one block over a row of {@code width} values. */
    private static int rowThreads(int width) {
        return Math.min(256, Math.max(32, (width + 31) / 32 * 32));
    }

    private static int elementwiseGrid(long n) {
        return (int) Math.max(1, Math.min((n + 255) / 256, 1024));
    }

    /** Moves the kept rows of a slot's last block ({@link DeviceKvSlot#compact}) in every layer on the device. */
    void compact(DeviceKvSlot slot, int blockStart, int[] keep, int count) {
        synchronized (d) {
            compactOnDevice(slot, blockStart, keep, count);
        }
    }

    private void compactOnDevice(DeviceKvSlot slot, int blockStart, int[] keep, int count) {
        IntBuffer di = descInts;
        for (int i = 0; i < count; i++) {
            di.put(oKeep + i, keep[i]);
        }
        d.copyToDevice(desc + 4L * oKeep, hDesc, 4L * oKeep, 4L * count);
        long rowBytes = (long) c.kvDim() * kv.bytes();
        long slotOffset = (long) slot.slot() * slotCapacity * rowBytes;
        d.launch(kCompact, c.nLayers(), 2, 1, rowThreads((int) (rowBytes / 4)), args.reset().ptr(kPool + slotOffset)
                .ptr(vPool + slotOffset).ptr(desc + 4L * oKeep).i32(count).i32(blockStart).i32((int) (rowBytes / 4))
                .i64(kvLayerBytes / 4));
        d.sync(); // the descriptor's keep list is host memory the next step rewrites
    }

    @Override
    public void close() {
        synchronized (d) {
            graphs.clear();
            if (head != null) {
                head.close();
                head = null;
            }
            if (verifier != null) {
                verifier.close();
                verifier = null;
            }
        }
        cleanable.clean();
    }

    /** Everything a forward allocated, freed once: by {@link #close} or, if nobody closes it, by the cleaner. */
    private static final class Resources implements Runnable {
        private final DeviceApi d;
        private final List<Long> device = new ArrayList<>();
        private final List<HostBuffer> host = new ArrayList<>();
        private boolean freed;

        Resources(DeviceApi d) {
            this.d = d;
        }

        long malloc(long bytes) {
            long p = d.malloc(bytes);
            device.add(p);
            return p;
        }

        HostBuffer pinned(long bytes) {
            HostBuffer h = d.pinned(bytes);
            host.add(h);
            return h;
        }

        void free(long p) {
            device.remove(p);
            d.free(p);
        }

        @Override
        public void run() {
            synchronized (d) {
                if (freed) {
                    return;
                }
                freed = true;
                for (long p : device) {
                    d.free(p);
                }
                host.forEach(HostBuffer::close);
            }
        }
    }
}
