package io.mtpspark.engine.mtp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.ModelFingerprint;
import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.safetensors.SafetensorsFile;
import io.mtpspark.engine.safetensors.SafetensorsWriter;
import io.mtpspark.engine.tensor.WeightTensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Everything MTP adds to a frozen base model: K mask-token embeddings (ids {@code vocab .. vocab+K-1}, input side
 * only), a gated LoRA branch per layer and target linear (active on mask rows only), and the sampler head.
 *
 * <p>File format: one {@code .safetensors} with tensors {@code mtp.mask_embeddings [K, dim]},
 * {@code mtp.layers.L.TARGET.lora_down [rank, in]}, {@code mtp.layers.L.TARGET.lora_up [out, rank]} (TARGET is
 * {@code q_proj … down_proj}; q/k up rows in the engine's adjacent-pair RoPE order), {@code mtp.sampler.fc1.weight
 * [dim, 2·dim]}, {@code mtp.sampler.norm1.weight [dim]}, {@code mtp.sampler.fc2.weight [dim, dim]},
 * {@code mtp.sampler.norm2.weight [dim]}; and the header metadata key {@code mtp_config} holding JSON
 * {@code {format_version, k, rank, scaling, target_modules, sampler:{residual}, base_model:{fingerprint,
 * content_fingerprint, dim, n_layers, vocab_size, hidden_dim, n_heads, n_kv_heads, head_dim}}}. Loading checks the
 * base model ({@link BaseModelMatch}) and every tensor's shape.
 */
public final class MtpAdapter {
    public static final int FORMAT_VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MtpAdapterConfig config;
    private final float[] maskEmbeddings;
    private final LoraWeights[][] lora; // [layer][target ordinal], null where the target is off
    private final SamplerHead sampler;
    private final AcceptanceTable acceptance; // null when never measured

    public MtpAdapter(MtpAdapterConfig config, float[] maskEmbeddings, LoraWeights[][] lora, SamplerHead sampler) {
        this(config, maskEmbeddings, lora, sampler, null);
    }

    private MtpAdapter(MtpAdapterConfig config, float[] maskEmbeddings, LoraWeights[][] lora, SamplerHead sampler,
                       AcceptanceTable acceptance) {
        this.config = config;
        this.maskEmbeddings = maskEmbeddings;
        this.lora = lora;
        this.sampler = sampler;
        this.acceptance = acceptance;
    }

    /** The adapter's measured acceptance prior (tokens and rows per pass per decoder configuration), or null. */
    public AcceptanceTable acceptance() {
        return acceptance;
    }

    /** The same weights (shared, not copied) with {@code table} as the acceptance prior. */
    public MtpAdapter withAcceptance(AcceptanceTable table) {
        return new MtpAdapter(config, maskEmbeddings, lora, sampler, table);
    }

    public MtpAdapterConfig config() {
        return config;
    }

    public int k() {
        return config.k();
    }

    public float[] maskEmbeddings() {
        return maskEmbeddings;
    }

    public LoraWeights lora(int layer, LoraTarget target) {
        return lora[layer][target.ordinal()];
    }

    public SamplerHead sampler() {
        return sampler;
    }

    /** Token id of mask j (1-based) for a model with vocabulary {@code vocab}. */
    public static int maskId(int vocab, int j) {
        return vocab + j - 1;
    }

    /** How {@link #build} initialises the trainable weights. */
    private enum Init {
        /** random everything, LoRA up included, so the branch is active (tests of exactness and shapes) */
        RANDOM,
        /** zero LoRA and sampler matrices: the branch adds nothing */
        ZERO,
        /** standard LoRA init: down random, up zero, so the branch starts at exactly 0 */
        TRAINING
    }

    /** Random weights everywhere (LoRA up too, so the branch is active): for tests of exactness and shapes. */
    public static MtpAdapter random(LlamaModel base, int k, int rank, long seed) {
        return build(base, MtpAdapterConfig.allTargets(k, rank, 1.0f, ModelFingerprint.dtypeIndependent(base)), seed,
                Init.RANDOM);
    }

    /** All-zero LoRA and sampler weights, random mask embeddings: adds nothing to mask rows' projections. */
    public static MtpAdapter zero(LlamaModel base, int k, int rank) {
        return build(base, MtpAdapterConfig.allTargets(k, rank, 1.0f, ModelFingerprint.dtypeIndependent(base)), 0,
                Init.ZERO);
    }

    /**
     * The starting point for training: standard LoRA init (down Kaiming-uniform with a = √5, i.e. U(±1/√in); up
     * zero, so the branch adds exactly 0), random mask embeddings at the scale of the token embeddings, sampler
     * linears U(±1/√fan_in) and norm weights 1.
     */
    public static MtpAdapter initialForTraining(LlamaModel base, MtpAdapterConfig config, long seed) {
        return build(base, config, seed, Init.TRAINING);
    }

    private static MtpAdapter build(LlamaModel base, MtpAdapterConfig config, long seed, Init init) {
        LlamaConfig c = base.config();
        SplittableRandom rng = new SplittableRandom(seed);
        float embScale = rms(base.weights().tokenEmbedding());
        float[] masks = uniform(rng, config.k() * c.dim(), embScale * (float) Math.sqrt(3));
        int rank = config.rank();
        LoraWeights[][] lora = new LoraWeights[c.nLayers()][LoraTarget.values().length];
        for (int l = 0; l < c.nLayers(); l++) {
            for (LoraTarget t : config.targets()) {
                int in = t.inDim(c);
                int out = t.outDim(c);
                float[] down = init == Init.ZERO ? new float[rank * in]
                        : uniform(rng, rank * in, (float) (1 / Math.sqrt(in)));
                float[] up = init == Init.RANDOM ? uniform(rng, out * rank, (float) (1 / Math.sqrt(rank)))
                        : new float[out * rank];
                lora[l][t.ordinal()] = new LoraWeights(down, up, rank, in, out);
            }
        }
        int d = c.dim();
        boolean zero = init == Init.ZERO;
        SamplerHead head = new SamplerHead(
                zero ? new float[d * 2 * d] : uniform(rng, d * 2 * d, (float) (1 / Math.sqrt(2 * d))), ones(d),
                zero ? new float[d * d] : uniform(rng, d * d, (float) (1 / Math.sqrt(d))), ones(d), config.sampler());
        return new MtpAdapter(config, masks, lora, head);
    }

    /** A deep copy (training updates weights in place; checkpoints and tests need snapshots). */
    public MtpAdapter copy() {
        LoraWeights[][] l2 = new LoraWeights[lora.length][];
        for (int l = 0; l < lora.length; l++) {
            l2[l] = new LoraWeights[lora[l].length];
            for (int t = 0; t < lora[l].length; t++) {
                LoraWeights w = lora[l][t];
                l2[l][t] = w == null ? null : new LoraWeights(w.down().clone(), w.up().clone(), w.rank(), w.in(),
                        w.out());
            }
        }
        return new MtpAdapter(config, maskEmbeddings.clone(), l2, new SamplerHead(sampler.fc1().clone(),
                sampler.norm1().clone(), sampler.fc2().clone(), sampler.norm2().clone(), sampler.options()));
    }

    public void save(Path file, LlamaModel base) throws IOException {
        LlamaConfig c = base.config();
        SafetensorsWriter w = new SafetensorsWriter();
        w.add("mtp.mask_embeddings", new long[]{config.k(), c.dim()}, maskEmbeddings, DType.F32);
        for (int l = 0; l < c.nLayers(); l++) {
            for (LoraTarget t : config.targets()) {
                LoraWeights lw = lora[l][t.ordinal()];
                w.add(tensorName(l, t, "lora_down"), new long[]{lw.rank(), lw.in()}, lw.down(), DType.F32);
                w.add(tensorName(l, t, "lora_up"), new long[]{lw.out(), lw.rank()}, lw.up(), DType.F32);
            }
        }
        int d = c.dim();
        w.add("mtp.sampler.fc1.weight", new long[]{d, 2L * d}, sampler.fc1(), DType.F32);
        w.add("mtp.sampler.norm1.weight", new long[]{d}, sampler.norm1(), DType.F32);
        w.add("mtp.sampler.fc2.weight", new long[]{d, d}, sampler.fc2(), DType.F32);
        w.add("mtp.sampler.norm2.weight", new long[]{d}, sampler.norm2(), DType.F32);
        ObjectNode meta = JSON.createObjectNode();
        meta.put("format_version", FORMAT_VERSION);
        meta.put("k", config.k());
        meta.put("rank", config.rank());
        meta.put("scaling", config.scaling());
        var targets = meta.putArray("target_modules");
        config.targets().forEach(t -> targets.add(t.key()));
        meta.putObject("sampler").put("residual", config.sampler().residual());
        if (!ModelFingerprint.matches(config.baseFingerprint(), base)) {
            throw new IllegalArgumentException("adapter for base model " + config.baseFingerprint()
                    + " cannot be saved against " + base.source());
        }
        BaseModelMatch.record(meta.putObject("base_model"), base);
        if (acceptance != null) {
            meta.set("acceptance", acceptance.toJson());
        }
        w.metadata("mtp_config", JSON.writeValueAsString(meta));
        w.write(file);
    }

    /** Loads an adapter and checks it belongs to {@code base}. */
    public static MtpAdapter load(Path file, LlamaModel base) {
        LlamaConfig c = base.config();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            String metaJson = f.metadata().get("mtp_config");
            if (metaJson == null) {
                throw new EngineException(file, "not an MTP adapter: the safetensors header has no mtp_config "
                        + "metadata");
            }
            JsonNode meta;
            try {
                meta = JSON.readTree(metaJson);
            } catch (IOException e) {
                throw new EngineException(file, "corrupt MTP adapter: mtp_config is not valid JSON");
            }
            if (meta.path("format_version").asInt(-1) != FORMAT_VERSION) {
                throw new EngineException(file, "unsupported MTP adapter format_version "
                        + meta.path("format_version") + " (this engine reads " + FORMAT_VERSION + ")");
            }
            String fingerprint = BaseModelMatch.verify(file, meta.path("base_model"), base);
            Set<LoraTarget> targets = EnumSet.noneOf(LoraTarget.class);
            for (JsonNode t : meta.path("target_modules")) {
                try {
                    targets.add(LoraTarget.parse(t.asText()));
                } catch (IllegalArgumentException e) {
                    throw new EngineException(file, "corrupt MTP adapter: " + e.getMessage());
                }
            }
            MtpAdapterConfig config;
            try {
                config = new MtpAdapterConfig(meta.path("k").asInt(0), meta.path("rank").asInt(0),
                        (float) meta.path("scaling").asDouble(1.0), targets,
                        new SamplerOptions(meta.path("sampler").path("residual").asBoolean(true)), fingerprint);
            } catch (IllegalArgumentException e) {
                throw new EngineException(file, "corrupt MTP adapter config: " + e.getMessage());
            }
            int d = c.dim();
            float[] masks = read(f, "mtp.mask_embeddings", config.k(), d);
            LoraWeights[][] lora = new LoraWeights[c.nLayers()][LoraTarget.values().length];
            for (int l = 0; l < c.nLayers(); l++) {
                for (LoraTarget t : targets) {
                    int in = t.inDim(c);
                    int out = t.outDim(c);
                    lora[l][t.ordinal()] = new LoraWeights(read(f, tensorName(l, t, "lora_down"), config.rank(), in),
                            read(f, tensorName(l, t, "lora_up"), out, config.rank()), config.rank(), in, out);
                }
            }
            SamplerHead head = new SamplerHead(read(f, "mtp.sampler.fc1.weight", d, 2L * d),
                    read(f, "mtp.sampler.norm1.weight", d), read(f, "mtp.sampler.fc2.weight", d, d),
                    read(f, "mtp.sampler.norm2.weight", d), config.sampler());
            AcceptanceTable table = null;
            if (meta.has("acceptance")) {
                try {
                    table = AcceptanceTable.fromJson(meta.get("acceptance"));
                } catch (IllegalArgumentException e) {
                    throw new EngineException(file, "corrupt MTP adapter acceptance table: " + e.getMessage());
                }
            }
            return new MtpAdapter(config, masks, lora, head, table);
        }
    }

    static String tensorName(int layer, LoraTarget t, String part) {
        return "mtp.layers." + layer + "." + t.key() + "." + part;
    }

    private static float[] read(SafetensorsFile f, String name, long... shape) {
        var info = f.info(name);
        if (!java.util.Arrays.equals(info.shape(), shape)) {
            throw new EngineException(f.path(), "corrupt MTP adapter: tensor " + name + " has shape "
                    + java.util.Arrays.toString(info.shape()) + ", expected " + java.util.Arrays.toString(shape));
        }
        return f.readFloats(name);
    }

    private static float rms(WeightTensor v) {
        double s = 0;
        long n = v.elements();
        for (long i = 0; i < n; i++) {
            float x = v.at(i);
            s += x * x;
        }
        return (float) Math.sqrt(s / n);
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }

    private static float[] uniform(SplittableRandom rng, int n, float bound) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        return v;
    }
}
