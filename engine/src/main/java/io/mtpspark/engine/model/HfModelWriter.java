package io.mtpspark.engine.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a loaded model as a Hugging Face directory ({@code config.json} + {@code model.safetensors}) with HF
 * tensor names and HF's rotate-half q/k row order, in F32, F16 or BF16. Used by the {@code convert} command to turn
 * llama2.c checkpoints into HF layout and by tests to build random HF-layout models.
 */
public final class HfModelWriter {
    private HfModelWriter() {
    }

    public static void write(LlamaModel model, Path dir, DType dtype) throws IOException {
        LlamaConfig c = model.config();
        LlamaWeights w = model.weights();
        Files.createDirectories(dir);
        SafetensorsWriter st = new SafetensorsWriter().metadata("format", "pt");
        st.add("model.embed_tokens.weight", new long[]{c.vocabSize(), c.dim()}, w.tokenEmbedding().toFloatArray(), dtype);
        for (int l = 0; l < c.nLayers(); l++) {
            LayerWeights lw = w.layers()[l];
            String p = "model.layers." + l + ".";
            st.add(p + "input_layernorm.weight", new long[]{c.dim()}, lw.attnNorm(), dtype);
            st.add(p + "self_attn.q_proj.weight", new long[]{c.qDim(), c.dim()},
                    RopeLayout.pairsToHalves(lw.wq().toFloatArray(), c.nHeads(), c.headDim(), c.dim()), dtype);
            st.add(p + "self_attn.k_proj.weight", new long[]{c.kvDim(), c.dim()},
                    RopeLayout.pairsToHalves(lw.wk().toFloatArray(), c.nKvHeads(), c.headDim(), c.dim()), dtype);
            st.add(p + "self_attn.v_proj.weight", new long[]{c.kvDim(), c.dim()}, lw.wv().toFloatArray(), dtype);
            if (c.qkvBias()) {
                st.add(p + "self_attn.q_proj.bias", new long[]{c.qDim()},
                        RopeLayout.pairsToHalves(lw.bq(), c.nHeads(), c.headDim(), 1), dtype);
                st.add(p + "self_attn.k_proj.bias", new long[]{c.kvDim()},
                        RopeLayout.pairsToHalves(lw.bk(), c.nKvHeads(), c.headDim(), 1), dtype);
                st.add(p + "self_attn.v_proj.bias", new long[]{c.kvDim()}, lw.bv(), dtype);
            }
            st.add(p + "self_attn.o_proj.weight", new long[]{c.dim(), c.qDim()}, lw.wo().toFloatArray(), dtype);
            st.add(p + "post_attention_layernorm.weight", new long[]{c.dim()}, lw.ffnNorm(), dtype);
            st.add(p + "mlp.gate_proj.weight", new long[]{c.hiddenDim(), c.dim()}, lw.wGate().toFloatArray(), dtype);
            st.add(p + "mlp.up_proj.weight", new long[]{c.hiddenDim(), c.dim()}, lw.wUp().toFloatArray(), dtype);
            st.add(p + "mlp.down_proj.weight", new long[]{c.dim(), c.hiddenDim()}, lw.wDown().toFloatArray(), dtype);
        }
        st.add("model.norm.weight", new long[]{c.dim()}, w.finalNorm(), dtype);
        if (!c.tiedEmbeddings()) {
            st.add("lm_head.weight", new long[]{c.vocabSize(), c.dim()}, w.classifier().toFloatArray(), dtype);
        }
        st.write(dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), configJson(c, dtype));
    }

    static String configJson(LlamaConfig c, DType dtype) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode n = json.createObjectNode();
        String arch = HfModelLoader.ARCHITECTURES.contains(c.architecture()) ? c.architecture() : "LlamaForCausalLM";
        n.putArray("architectures").add(arch);
        n.put("model_type", arch.equals("Qwen2ForCausalLM") ? "qwen2"
                : arch.equals("MistralForCausalLM") ? "mistral" : "llama");
        n.put("hidden_size", c.dim());
        n.put("intermediate_size", c.hiddenDim());
        n.put("num_hidden_layers", c.nLayers());
        n.put("num_attention_heads", c.nHeads());
        n.put("num_key_value_heads", c.nKvHeads());
        n.put("head_dim", c.headDim());
        n.put("vocab_size", c.vocabSize());
        n.put("max_position_embeddings", c.seqLen());
        n.put("rope_theta", c.ropeTheta());
        n.put("rms_norm_eps", c.rmsNormEps());
        n.put("tie_word_embeddings", c.tiedEmbeddings());
        n.put("hidden_act", "silu");
        if (c.qkvBias() && !arch.equals("Qwen2ForCausalLM")) {
            n.put("attention_bias", true);
        }
        if (c.ropeScaling() != null) {
            ObjectNode rs = n.putObject("rope_scaling");
            rs.put("rope_type", "llama3");
            rs.put("factor", c.ropeScaling().factor());
            rs.put("low_freq_factor", c.ropeScaling().lowFreqFactor());
            rs.put("high_freq_factor", c.ropeScaling().highFreqFactor());
            rs.put("original_max_position_embeddings", c.ropeScaling().originalMaxPositions());
        }
        n.put("bos_token_id", c.bosId());
        n.put("eos_token_id", c.eosId());
        n.put("torch_dtype", switch (dtype) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
        });
        if (c.stopOnBos()) {
            // engine-specific: llama2.c TinyStories models end a story with BOS
            n.put("mtp_stop_on_bos", true);
        }
        return json.writeValueAsString(n);
    }
}
