package io.mtpspark.engine.mtp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.ModelFingerprint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which base model an adapter belongs to: the {@code base_model} object of its metadata records the architecture
 * fields and two fingerprints, {@code content_fingerprint} (dtype-independent, what loading matches on, so an adapter
 * follows its model through a BF16/F16 conversion) and {@code fingerprint} (exact weights, what older engines
 * compare). Adapters written before the content fingerprint existed are matched on the exact one. A refusal names
 * what differs: the architecture fields that differ, or, with the same architecture, that the weights do.
 */
final class BaseModelMatch {
    private BaseModelMatch() {
    }

    /** Writes {@code base}'s description into {@code baseModel}. */
    static void record(ObjectNode baseModel, LlamaModel base) {
        baseModel.put("fingerprint", ModelFingerprint.of(base));
        baseModel.put("content_fingerprint", ModelFingerprint.dtypeIndependent(base));
        architecture(base.config()).forEach(baseModel::put);
    }

    /**
     * Checks that the adapter in {@code file}, whose metadata holds {@code baseModel}, belongs to {@code base}, and
     * returns the fingerprint it was matched on.
     */
    static String verify(Path file, JsonNode baseModel, LlamaModel base) {
        List<String> differences = new ArrayList<>();
        architecture(base.config()).forEach((field, actual) -> {
            JsonNode recorded = baseModel.get(field);
            if (recorded != null && recorded.asInt() != actual) {
                differences.add(differences.isEmpty()
                        ? field + " " + recorded.asInt() + " (adapter's base) vs " + actual + " (" + base.source() + ")"
                        : field + " " + recorded.asInt() + " vs " + actual);
            }
        });
        if (!differences.isEmpty()) {
            throw new EngineException(file, "adapter was trained for a different base model: "
                    + String.join(", ", differences));
        }
        boolean hasContent = baseModel.hasNonNull("content_fingerprint");
        String fingerprint = baseModel.path(hasContent ? "content_fingerprint" : "fingerprint").asText("");
        if (ModelFingerprint.matches(fingerprint, base)) {
            return fingerprint;
        }
        LlamaConfig c = base.config();
        String prefix = "adapter was trained for a different base model: " + base.source() + " has the same "
                + "architecture (dim " + c.dim() + ", " + c.nLayers() + " layers, vocab " + c.vocabSize() + ") but ";
        if (hasContent) {
            throw new EngineException(file, prefix + "different weights (content fingerprint "
                    + ModelFingerprint.dtypeIndependent(base) + ", the adapter's base has " + fingerprint + ")");
        }
        throw new EngineException(file, prefix + "not the exact weights the adapter was trained on (fingerprint "
                + ModelFingerprint.of(base) + ", the adapter's base has " + fingerprint + "; this adapter was written "
                + "by an older version that recorded only the exact-weights fingerprint, which a dtype conversion "
                + "changes too)");
    }

    private static Map<String, Integer> architecture(LlamaConfig c) {
        Map<String, Integer> fields = new LinkedHashMap<>();
        fields.put("dim", c.dim());
        fields.put("n_layers", c.nLayers());
        fields.put("vocab_size", c.vocabSize());
        fields.put("hidden_dim", c.hiddenDim());
        fields.put("n_heads", c.nHeads());
        fields.put("n_kv_heads", c.nKvHeads());
        fields.put("head_dim", c.headDim());
        return fields;
    }
}
