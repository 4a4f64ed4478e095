package io.mtpspark.engine.device;

import io.mtpspark.engine.model.LayerWeights;
import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.LlamaWeights;
import io.mtpspark.engine.mtp.LoraTarget;
import io.mtpspark.engine.mtp.LoraWeights;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.tensor.WeightTensor;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * A model's weights on a device, in one slab (one allocation, tensors at 256-byte offsets): per layer the q, k and
 * v rows concatenated into one {@code Wqkv} and gate + up into one {@code W13} (one GEMM each), matrices in the
 * chosen element type (BF16, or F32 for exact comparison with the CPU), norms and biases in F32. Tensors stream from
 * their {@link WeightTensor}s through a small pinned staging buffer: raw bytes when the stored type is the device
 * type, F32 rounded to BF16 on the device ({@code to_bf16}) chunk by chunk, anything else widened or rounded per
 * chunk on the host; never an F32 copy of the model. The MTP adapter (mask embeddings in F32, LoRA pairs in the
 * device type) is uploaded on first use into its own allocation. Shared by the {@link DeviceForward}s of one model.
 */
public final class DeviceModel implements AutoCloseable {
    static final int ALIGN = 256;
    /** Bytes per staging chunk: small enough to keep the pinned buffer cheap, large enough to stream at full rate. */
    static final int CHUNK = 1 << 22;

    /** Addresses of one layer's tensors; {@code bqkv} is 0 without biases. */
    record Layer(long attnNorm, long wqkv, long bqkv, long wo, long ffnNorm, long w13, long wDown) {
    }

    /** Addresses of one adapter's LoRA pair per layer and target (0 when the target has none). */
    record Lora(long down, long up, int rank, int in, int out) {
    }

    private final DeviceApi device;
    private final LlamaModel model;
    private final LlamaConfig c;
    private final ElementType type;
    private final long slab;
    private final long slabBytes;
    private final Layer[] layers;
    private final long embedding;
    private final long finalNorm;
    private final long classifier;
    private final int toBf16;
    private HostBuffer staging;
    private long convertScratch;
    // the adapter resident on the device, by identity
    private MtpAdapter adapter;
    private long adapterSlab;
    private long adapterBytes;
    private long maskEmbeddings;
    private Lora[][] lora;

    private DeviceModel(DeviceApi device, LlamaModel model, ElementType type) {
        this.device = device;
        this.model = model;
        this.c = model.config();
        this.type = type;
        this.toBf16 = device.kernel("to_bf16");
        LlamaWeights w = model.weights();
        Slab plan = new Slab();
        int dim = c.dim();
        int qkv = c.qDim() + 2 * c.kvDim();
        int hid = c.hiddenDim();
        long[][] at = new long[c.nLayers()][7];
        for (int l = 0; l < c.nLayers(); l++) {
            at[l][0] = plan.take((long) dim * 4);
            at[l][1] = plan.take((long) qkv * dim * type.bytes());
            at[l][2] = w.layers()[l].bq() == null ? -1 : plan.take((long) qkv * 4);
            at[l][3] = plan.take((long) dim * c.qDim() * type.bytes());
            at[l][4] = plan.take((long) dim * 4);
            at[l][5] = plan.take(2L * hid * dim * type.bytes());
            at[l][6] = plan.take((long) dim * hid * type.bytes());
        }
        long emb = plan.take((long) c.vocabSize() * dim * type.bytes());
        long fin = plan.take((long) dim * 4);
        boolean tied = w.classifier() == w.tokenEmbedding();
        long cls = tied ? emb : plan.take((long) c.vocabSize() * dim * type.bytes());
        slabBytes = plan.size;
        slab = device.malloc(slabBytes);
        try {
            staging = device.pinned(CHUNK);
            if (type == ElementType.BF16) {
                convertScratch = device.malloc(CHUNK);
            }
            layers = new Layer[c.nLayers()];
            for (int l = 0; l < c.nLayers(); l++) {
                LayerWeights lw = w.layers()[l];
                long[] a = at[l];
                uploadF32(lw.attnNorm(), slab + a[0]);
                upload(matrix(lw.wq(), c.qDim(), dim), slab + a[1]);
                upload(matrix(lw.wk(), c.kvDim(), dim), slab + a[1] + (long) c.qDim() * dim * type.bytes());
                upload(matrix(lw.wv(), c.kvDim(), dim),
                        slab + a[1] + (long) (c.qDim() + c.kvDim()) * dim * type.bytes());
                if (a[2] >= 0) {
                    uploadF32(lw.bq(), slab + a[2]);
                    uploadF32(lw.bk(), slab + a[2] + (long) c.qDim() * 4);
                    uploadF32(lw.bv(), slab + a[2] + (long) (c.qDim() + c.kvDim()) * 4);
                }
                upload(matrix(lw.wo(), dim, c.qDim()), slab + a[3]);
                uploadF32(lw.ffnNorm(), slab + a[4]);
                upload(matrix(lw.wGate(), hid, dim), slab + a[5]);
                upload(matrix(lw.wUp(), hid, dim), slab + a[5] + (long) hid * dim * type.bytes());
                upload(matrix(lw.wDown(), dim, hid), slab + a[6]);
                layers[l] = new Layer(slab + a[0], slab + a[1], a[2] < 0 ? 0 : slab + a[2], slab + a[3], slab + a[4],
                        slab + a[5], slab + a[6]);
            }
            upload(matrix(w.tokenEmbedding(), c.vocabSize(), dim), slab + emb);
            uploadF32(w.finalNorm(), slab + fin);
            if (!tied) {
                upload(matrix(w.classifier(), c.vocabSize(), dim), slab + cls);
            }
            device.sync();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        embedding = slab + emb;
        finalNorm = slab + fin;
        classifier = slab + cls;
    }

    /** Uploads {@code model}'s weights with matrices in {@code type}. */
    public static DeviceModel upload(DeviceApi device, LlamaModel model, ElementType type) {
        return new DeviceModel(device, model, type);
    }

    /** Device bytes of the weight slab for {@code c} in {@code type} (for the memory plan, before loading). */
    public static long weightBytes(LlamaConfig c, ElementType type, boolean bias, boolean tied) {
        Slab s = new Slab();
        int dim = c.dim();
        int qkv = c.qDim() + 2 * c.kvDim();
        for (int l = 0; l < c.nLayers(); l++) {
            s.take((long) dim * 4);
            s.take((long) qkv * dim * type.bytes());
            if (bias) {
                s.take((long) qkv * 4);
            }
            s.take((long) dim * c.qDim() * type.bytes());
            s.take((long) dim * 4);
            s.take(2L * c.hiddenDim() * dim * type.bytes());
            s.take((long) dim * c.hiddenDim() * type.bytes());
        }
        s.take((long) c.vocabSize() * dim * type.bytes());
        s.take((long) dim * 4);
        if (!tied) {
            s.take((long) c.vocabSize() * dim * type.bytes());
        }
        return s.size;
    }

    /** The tensor itself, after checking it has the shape the slab layout reserved for it. */
    private static WeightTensor matrix(WeightTensor t, int rows, int cols) {
        if (t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException("weight of shape [" + t.rows() + "][" + t.cols() + "] where [" + rows
                    + "][" + cols + "] was expected");
        }
        return t;
    }

    private static final class Slab {
        long size;

        long take(long bytes) {
            long at = size;
            size = (size + bytes + ALIGN - 1) / ALIGN * ALIGN;
            return at;
        }
    }

    public DeviceApi device() {
        return device;
    }

    public LlamaModel model() {
        return model;
    }

    public ElementType type() {
        return type;
    }

    public long weightBytes() {
        return slabBytes;
    }

    Layer layer(int l) {
        return layers[l];
    }

    long embedding() {
        return embedding;
    }

    long finalNorm() {
        return finalNorm;
    }

    long classifier() {
        return classifier;
    }

    /** Writes {@code t} at {@code dst} in this model's element type. */
    void upload(WeightTensor t, long dst) {
        long n = t.elements();
        DType src = t.dtype();
        ByteBuffer stage = staging.bytes();
        if ((src == DType.F32 && type == ElementType.F32) || (src == DType.BF16 && type == ElementType.BF16)) {
            int esz = type.bytes();
            int per = CHUNK / esz;
            ByteBuffer raw = t.isHeapF32() ? null : t.bytes();
            float[] heap = t.isHeapF32() ? t.heapFloats() : null;
            for (long i = 0; i < n; i += per) {
                int len = (int) Math.min(per, n - i);
                if (heap != null) {
                    stage.asFloatBuffer().put(heap, (int) i, len);
                } else {
                    stage.put(0, raw, (int) (i * esz), len * esz);
                }
                device.copyToDevice(dst + i * esz, staging, 0, (long) len * esz);
                device.sync(); // the staging buffer is reused by the next chunk
            }
            return;
        }
        if (src == DType.F32 && type == ElementType.BF16) {
            int per = CHUNK / 4;
            LaunchArgs args = new LaunchArgs(3);
            for (long i = 0; i < n; i += per) {
                int len = (int) Math.min(per, n - i);
                FloatBuffer f = stage.asFloatBuffer();
                if (t.isHeapF32()) {
                    f.put(t.heapFloats(), (int) i, len);
                } else {
                    for (int j = 0; j < len; j++) {
                        f.put(j, t.at(i + j));
                    }
                }
                device.copyToDevice(convertScratch, staging, 0, (long) len * 4);
                device.launch(toBf16, Math.min((len + 255) / 256, 1024), 1, 1, 256,
                        args.reset().ptr(convertScratch).ptr(dst + i * 2).i32(len));
                device.sync();
            }
            return;
        }
        // BF16 -> F32 (exact widening) or F16 -> either: converted per chunk on the host
        int esz = type.bytes();
        int per = CHUNK / esz;
        for (long i = 0; i < n; i += per) {
            int len = (int) Math.min(per, n - i);
            for (int j = 0; j < len; j++) {
                float v = t.at(i + j);
                if (type == ElementType.F32) {
                    stage.putFloat(j * 4, v);
                } else {
                    stage.putShort(j * 2, DType.floatToBf16(v));
                }
            }
            device.copyToDevice(dst + i * esz, staging, 0, (long) len * esz);
            device.sync();
        }
    }

    void uploadF32(float[] values, long dst) {
        WeightTensor t = WeightTensor.ofFloats(values, 1, values.length);
        ByteBuffer stage = staging.bytes();
        int per = CHUNK / 4;
        for (int i = 0; i < values.length; i += per) {
            int len = Math.min(per, values.length - i);
            stage.asFloatBuffer().put(t.heapFloats(), i, len);
            device.copyToDevice(dst + (long) i * 4, staging, 0, (long) len * 4);
            device.sync();
        }
    }

    /** Makes {@code a} the resident adapter (uploading it on first use) and returns its mask embeddings' address. */
    long useAdapter(MtpAdapter a) {
        if (a == adapter) {
            return maskEmbeddings;
        }
        releaseAdapter();
        int dim = c.dim();
        Slab plan = new Slab();
        long mask = plan.take((long) a.k() * dim * 4);
        LoraTarget[] targets = LoraTarget.values();
        long[][][] at = new long[c.nLayers()][targets.length][];
        for (int l = 0; l < c.nLayers(); l++) {
            for (LoraTarget tg : targets) {
                LoraWeights lw = a.lora(l, tg);
                if (lw != null) {
                    at[l][tg.ordinal()] = new long[]{plan.take((long) lw.rank() * lw.in() * type.bytes()),
                            plan.take((long) lw.out() * lw.rank() * type.bytes())};
                }
            }
        }
        adapterBytes = plan.size;
        adapterSlab = device.malloc(adapterBytes);
        Lora[][] table = new Lora[c.nLayers()][targets.length];
        uploadF32(a.maskEmbeddings(), adapterSlab + mask);
        for (int l = 0; l < c.nLayers(); l++) {
            for (LoraTarget tg : targets) {
                LoraWeights lw = a.lora(l, tg);
                if (lw != null) {
                    long[] p = at[l][tg.ordinal()];
                    upload(WeightTensor.ofFloats(lw.down(), lw.rank(), lw.in()), adapterSlab + p[0]);
                    upload(WeightTensor.ofFloats(lw.up(), lw.out(), lw.rank()), adapterSlab + p[1]);
                    table[l][tg.ordinal()] = new Lora(adapterSlab + p[0], adapterSlab + p[1], lw.rank(), lw.in(),
                            lw.out());
                }
            }
        }
        device.sync();
        adapter = a;
        lora = table;
        maskEmbeddings = adapterSlab + mask;
        return maskEmbeddings;
    }

    /** The resident adapter's LoRA pair for a layer and target, or null. */
    Lora lora(int layer, LoraTarget target) {
        return lora[layer][target.ordinal()];
    }

    /** Bytes of the resident adapter (0 without one). */
    public long adapterBytes() {
        return adapterBytes;
    }

    private void releaseAdapter() {
        if (adapterSlab != 0) {
            device.free(adapterSlab);
            adapterSlab = 0;
            adapterBytes = 0;
            adapter = null;
            lora = null;
        }
    }

    @Override
    public void close() {
        releaseAdapter();
        if (convertScratch != 0) {
            device.free(convertScratch);
            convertScratch = 0;
        }
        if (staging != null) {
            staging.close();
            staging = null;
        }
        if (slab != 0) {
            device.free(slab);
        }
    }
}
