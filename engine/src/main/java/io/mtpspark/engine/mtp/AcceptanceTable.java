package io.mtpspark.engine.mtp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An adapter's own acceptance prior: for each decoder configuration (by label, e.g. {@code "quadratic k=8"}) the
 * tokens one forward pass emits and the rows its block sends on average, as {@code eval} measured them (greedy) on
 * a prompt set. Stored in the adapter file's {@code mtp_config} metadata under {@code acceptance}, so a fresh
 * adapter comes with its prior; the adaptive decoder refines it online from the run's own accepted lengths.
 *
 * @param measuredOn what it was measured on (prompt set, token budget)
 */
public record AcceptanceTable(String measuredOn, Map<String, Double> tokensPerPass, Map<String, Double> rowsPerPass) {
    /**
     * A table by rule rather than measurement: {@code tokens} and {@code rows} per pass for every MTP configuration
     * of {@code configs} (autoregressive ones left out), e.g. an oracle's k + 1 tokens per pass.
     */
    public static AcceptanceTable of(String measuredOn, java.util.List<io.mtpspark.engine.decode.DecodeConfig> configs,
                                     java.util.function.ToDoubleFunction<io.mtpspark.engine.decode.DecodeConfig> tokens,
                                     java.util.function.ToDoubleFunction<io.mtpspark.engine.decode.DecodeConfig> rows) {
        Map<String, Double> t = new LinkedHashMap<>();
        Map<String, Double> r = new LinkedHashMap<>();
        for (io.mtpspark.engine.decode.DecodeConfig c : configs) {
            if (!c.autoregressive()) {
                t.put(c.label(), tokens.applyAsDouble(c));
                r.put(c.label(), rows.applyAsDouble(c));
            }
        }
        return new AcceptanceTable(measuredOn, t, r);
    }


    public AcceptanceTable {
        tokensPerPass = Map.copyOf(tokensPerPass);
        rowsPerPass = Map.copyOf(rowsPerPass);
        for (Map.Entry<String, Double> e : tokensPerPass.entrySet()) {
            if (!(e.getValue() >= 1) || !rowsPerPass.containsKey(e.getKey()) || !(rowsPerPass.get(e.getKey()) >= 1)) {
                throw new IllegalArgumentException("acceptance table entry \"" + e.getKey() + "\": tokens per pass "
                        + e.getValue() + " and rows per pass " + rowsPerPass.get(e.getKey()) + " must both be >= 1");
            }
        }
    }

    /** Tokens per pass of a configuration, or null when it was not measured. */
    public Double tokens(String label) {
        return tokensPerPass.get(label);
    }

    public Double rows(String label) {
        return rowsPerPass.get(label);
    }

    ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("measured_on", measuredOn);
        ObjectNode configs = n.putObject("configs");
        new java.util.TreeMap<>(tokensPerPass).forEach((label, t) -> configs.putObject(label)
                .put("tokens_per_pass", t).put("rows_per_pass", rowsPerPass.get(label)));
        return n;
    }

    static AcceptanceTable fromJson(JsonNode n) {
        Map<String, Double> tokens = new LinkedHashMap<>();
        Map<String, Double> rows = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.path("configs").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            tokens.put(e.getKey(), e.getValue().path("tokens_per_pass").asDouble(0));
            rows.put(e.getKey(), e.getValue().path("rows_per_pass").asDouble(0));
        }
        return new AcceptanceTable(n.path("measured_on").asText(""), tokens, rows);
    }
}
