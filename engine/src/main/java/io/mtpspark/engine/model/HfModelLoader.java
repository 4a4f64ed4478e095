package io.mtpspark.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.safetensors.SafetensorsFile;
import io.mtpspark.engine.safetensors.TensorInfo;
import io.mtpspark.engine.tensor.WeightTensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loads a Hugging Face model directory: {@code config.json} plus {@code model.safetensors} or a sharded
 * {@code model.safetensors.index.json}. Supports LlamaForCausalLM, MistralForCausalLM and Qwen2ForCausalLM in F32,
 * F16 or BF16, tied or untied embeddings, GQA, an explicit head_dim and llama3 rope_scaling. Matrices stay in their
 * stored dtype over the files' mappings; query/key rows (and Qwen2's q/k biases) are permuted from rotate-half to the
 * engine's adjacent-pair RoPE at load, which copies just those two matrices per layer, in their own dtype.
 */
public final class HfModelLoader {
    public static final Set<String> ARCHITECTURES = Set.of("LlamaForCausalLM", "MistralForCausalLM",
            "Qwen2ForCausalLM");
    private static final ObjectMapper JSON = new ObjectMapper();

    private HfModelLoader() {
    }

    public static LlamaModel load(Path dir) {
        return load(dir, false);
    }

    /**
     * With {@code onHeap}, every matrix is read into a heap array of its stored dtype ({@link
     * SafetensorsFile#readRaw}) instead of mapped: the same bits, and the process holds one copy (copying a mapping
     * would leave its touched pages resident too: 2.3× the file in all, measured; docs/BENCHMARKS.md, issue 15).
     */
    public static LlamaModel load(Path dir, boolean onHeap) {
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            throw new EngineException(dir, "not a Hugging Face model directory: config.json not found");
        }
        LlamaConfig config = parseConfig(configFile);
        Map<String, SafetensorsFile> byTensor = new HashMap<>();
        List<SafetensorsFile> files = openShards(dir, byTensor);
        try {
            return new LlamaModel(config, readWeights(config, byTensor, onHeap), dir.toString());
        } finally {
            files.forEach(SafetensorsFile::close);
        }
    }

    static LlamaConfig parseConfig(Path configFile) {
        JsonNode c;
        try {
            c = JSON.readTree(configFile.toFile());
        } catch (IOException e) {
            throw new EngineException(configFile, "invalid JSON: " + e.getMessage());
        }
        JsonNode archs = c.path("architectures");
        String arch = archs.isArray() && archs.size() > 0 ? archs.get(0).asText() : c.path("model_type").asText("");
        if (!ARCHITECTURES.contains(arch)) {
            throw new EngineException(configFile, "unknown architecture " + (arch.isEmpty() ? "(none given)" : arch)
                    + "; supported: " + String.join(", ", ARCHITECTURES.stream().sorted().toList()));
        }
        int dim = requireInt(configFile, c, "hidden_size");
        int hidden = requireInt(configFile, c, "intermediate_size");
        int layers = requireInt(configFile, c, "num_hidden_layers");
        int heads = requireInt(configFile, c, "num_attention_heads");
        int kvHeads = c.has("num_key_value_heads") && !c.get("num_key_value_heads").isNull()
                ? requireInt(configFile, c, "num_key_value_heads") : heads;
        int vocab = requireInt(configFile, c, "vocab_size");
        int seqLen = c.path("max_position_embeddings").asInt(2048);
        int headDim = c.has("head_dim") && !c.get("head_dim").isNull() ? requireInt(configFile, c, "head_dim")
                : dim / heads;
        if (heads % kvHeads != 0 || headDim % 2 != 0 || (!c.has("head_dim") && dim % heads != 0)) {
            throw new EngineException(configFile, "inconsistent attention shape: num_attention_heads=" + heads
                    + ", num_key_value_heads=" + kvHeads + ", head_dim=" + headDim);
        }
        double theta = c.path("rope_theta").asDouble(10000.0);
        float eps = (float) c.path("rms_norm_eps").asDouble(1e-6);
        boolean tied = c.path("tie_word_embeddings").asBoolean(false);
        boolean bias = arch.equals("Qwen2ForCausalLM") || c.path("attention_bias").asBoolean(false);
        RopeScaling scaling = null;
        JsonNode rs = c.path("rope_scaling");
        if (rs.isObject()) {
            String type = rs.has("rope_type") ? rs.get("rope_type").asText() : rs.path("type").asText("");
            if (type.equals("llama3")) {
                scaling = new RopeScaling(rs.path("factor").asDouble(8.0), rs.path("low_freq_factor").asDouble(1.0),
                        rs.path("high_freq_factor").asDouble(4.0),
                        rs.path("original_max_position_embeddings").asInt(8192));
            } else if (!type.equals("default")) {
                throw new EngineException(configFile, "unsupported rope_scaling type " + type
                        + " (supported: llama3)");
            }
        }
        int bos = c.path("bos_token_id").asInt(1);
        JsonNode eosNode = c.path("eos_token_id");
        int eos = eosNode.isArray() && eosNode.size() > 0 ? eosNode.get(0).asInt() : eosNode.asInt(2);
        return new LlamaConfig(arch, dim, hidden, layers, heads, kvHeads, vocab, seqLen, headDim, theta, eps, scaling,
                bias, tied, bos, eos, c.path("mtp_stop_on_bos").asBoolean(false));
    }

    private static int requireInt(Path file, JsonNode c, String field) {
        JsonNode n = c.get(field);
        if (n == null || !n.canConvertToInt() || n.asInt() <= 0) {
            throw new EngineException(file, "missing or invalid " + field + " (expected a positive integer, got "
                    + (n == null ? "nothing" : n.toString()) + ")");
        }
        return n.asInt();
    }

    private static List<SafetensorsFile> openShards(Path dir, Map<String, SafetensorsFile> byTensor) {
        List<SafetensorsFile> files = new ArrayList<>();
        Path single = dir.resolve("model.safetensors");
        Path index = dir.resolve("model.safetensors.index.json");
        try {
            if (Files.isRegularFile(index)) {
                JsonNode map;
                try {
                    map = JSON.readTree(index.toFile()).path("weight_map");
                } catch (IOException e) {
                    throw new EngineException(index, "invalid JSON: " + e.getMessage());
                }
                if (!map.isObject()) {
                    throw new EngineException(index, "missing weight_map");
                }
                Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    String shardName = e.getValue().asText();
                    SafetensorsFile shard = shards.get(shardName);
                    if (shard == null) {
                        shard = SafetensorsFile.open(dir.resolve(shardName));
                        shards.put(shardName, shard);
                        files.add(shard);
                    }
                    if (!shard.contains(e.getKey())) {
                        throw new EngineException(shard.path(), "missing tensor " + e.getKey()
                                + " that the index assigns to this shard");
                    }
                    byTensor.put(e.getKey(), shard);
                }
            } else if (Files.isRegularFile(single)) {
                SafetensorsFile f = SafetensorsFile.open(single);
                files.add(f);
                f.tensors().keySet().forEach(name -> byTensor.put(name, f));
            } else {
                throw new EngineException(dir, "no weights: neither model.safetensors nor "
                        + "model.safetensors.index.json found");
            }
            return files;
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static LlamaWeights readWeights(LlamaConfig c, Map<String, SafetensorsFile> byTensor, boolean onHeap) {
        Tensors t = new Tensors(byTensor, onHeap);
        WeightTensor embedding = t.matrix("model.embed_tokens.weight", c.vocabSize(), c.dim());
        LayerWeights[] layers = new LayerWeights[c.nLayers()];
        for (int l = 0; l < c.nLayers(); l++) {
            String p = "model.layers." + l + ".";
            WeightTensor wq = RopeLayout.halvesToPairs(t.matrix(p + "self_attn.q_proj.weight", c.qDim(), c.dim()),
                    c.nHeads(), c.headDim());
            WeightTensor wk = RopeLayout.halvesToPairs(t.matrix(p + "self_attn.k_proj.weight", c.kvDim(), c.dim()),
                    c.nKvHeads(), c.headDim());
            WeightTensor wv = t.matrix(p + "self_attn.v_proj.weight", c.kvDim(), c.dim());
            WeightTensor wo = t.matrix(p + "self_attn.o_proj.weight", c.dim(), c.qDim());
            float[] bq = null;
            float[] bk = null;
            float[] bv = null;
            if (c.qkvBias()) {
                bq = RopeLayout.halvesToPairs(t.read(p + "self_attn.q_proj.bias", c.qDim()), c.nHeads(),
                        c.headDim(), 1);
                bk = RopeLayout.halvesToPairs(t.read(p + "self_attn.k_proj.bias", c.kvDim()), c.nKvHeads(),
                        c.headDim(), 1);
                bv = t.read(p + "self_attn.v_proj.bias", c.kvDim());
            }
            layers[l] = new LayerWeights(
                    t.read(p + "input_layernorm.weight", c.dim()), wq, wk, wv, wo, bq, bk, bv,
                    t.read(p + "post_attention_layernorm.weight", c.dim()),
                    t.matrix(p + "mlp.gate_proj.weight", c.hiddenDim(), c.dim()),
                    t.matrix(p + "mlp.down_proj.weight", c.dim(), c.hiddenDim()),
                    t.matrix(p + "mlp.up_proj.weight", c.hiddenDim(), c.dim()));
        }
        float[] norm = t.read("model.norm.weight", c.dim());
        WeightTensor classifier;
        if (byTensor.containsKey("lm_head.weight")) {
            classifier = t.matrix("lm_head.weight", c.vocabSize(), c.dim());
        } else if (c.tiedEmbeddings()) {
            classifier = embedding;
        } else {
            throw new EngineException(byTensor.values().iterator().next().path(),
                    "missing tensor lm_head.weight and tie_word_embeddings is false");
        }
        return new LlamaWeights(embedding, layers, norm, classifier);
    }

    /** Looks tensors up across shards and checks their shapes against the config. */
    private record Tensors(Map<String, SafetensorsFile> byTensor, boolean onHeap) {
        /**
         * A matrix in its stored dtype: over the file's mapping (the page cache is the only copy), or read into a heap
         * array with {@code onHeap}.
         */
        WeightTensor matrix(String name, int rows, int cols) {
            SafetensorsFile f = checked(name, rows, cols);
            DType dtype = f.info(name).dtype();
            if (!onHeap) {
                return WeightTensor.ofBytes(dtype, f.map(name), rows, cols);
            }
            Object raw = f.readRaw(name);
            return raw instanceof float[] v ? WeightTensor.ofFloats(v, rows, cols)
                    : WeightTensor.ofBits(dtype, (short[]) raw, rows, cols);
        }

        /** A small tensor (norm, bias) widened to an fp32 heap array. */
        float[] read(String name, long... shape) {
            return checked(name, shape).readFloats(name);
        }

        private SafetensorsFile checked(String name, long... shape) {
            SafetensorsFile f = byTensor.get(name);
            if (f == null) {
                Path where = byTensor.isEmpty() ? null : byTensor.values().iterator().next().path();
                throw new EngineException(where, "missing tensor " + name);
            }
            TensorInfo info = f.info(name);
            if (!java.util.Arrays.equals(info.shape(), shape)) {
                throw new EngineException(f.path(), "tensor " + name + " has shape "
                        + java.util.Arrays.toString(info.shape()) + " but config.json implies "
                        + java.util.Arrays.toString(shape));
            }
            return f;
        }
    }
}
