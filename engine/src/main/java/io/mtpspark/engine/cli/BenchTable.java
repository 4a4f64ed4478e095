package io.mtpspark.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Locale;
import java.util.Map;

/**
 * {@code bench}'s result for a person: what was measured in one line, then a table (one row per batch size and
 * decoder, or per block row count with {@code --block-cost}). It reads the same JSON object {@code --json} prints,
 * so the two never disagree and fields added to the JSON need no change here.
 */
final class BenchTable {
    private BenchTable() {
    }

    static String render(JsonNode result) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "model %s, backend %s, adapter %s%n", result.path("model").asText(),
                result.path("backend").asText(), result.path("adapter").asText()));
        if (result.has("block_ms")) {
            sb.append(String.format(Locale.ROOT, "one block forward after %d cached positions, median of %d rounds%n",
                    result.path("cache_positions").asInt(), result.path("repeats").asInt()));
            TextTable t = new TextTable(1, "rows", "median ms", "vs 1 row");
            for (Map.Entry<String, JsonNode> e : fields(result.get("block_ms"))) {
                t.row(e.getKey(), num(e.getValue().path("median_ms"), "%.3f"),
                        num(e.getValue().path("relative_to_1_row"), "%.2f×"));
            }
            return sb.append(t.render()).toString();
        }
        sb.append(String.format(Locale.ROOT, "%d prompts, %d positions each, %d warm-up + %d measured rounds "
                        + "(tokens/s: median)%n", result.path("prompts").asInt(), result.path("steps").asInt(),
                result.path("warmup").asInt(), result.path("repeats").asInt()));
        TextTable t = new TextTable(2, "batch", "decoder", "k", "tokens/s", "tokens/pass", "vs autoregressive",
                "rounds (tokens/s)");
        if (result.has("batches")) {
            for (Map.Entry<String, JsonNode> b : fields(result.get("batches"))) {
                decoderRows(t, b.getKey(), b.getValue());
            }
        } else {
            decoderRows(t, result.path("batch_size").asText(), result);
        }
        return sb.append(t.render()).toString();
    }

    private static void decoderRows(TextTable t, String batch, JsonNode atBatch) {
        for (Map.Entry<String, JsonNode> d : fields(atBatch.path("decoders"))) {
            JsonNode n = d.getValue();
            StringBuilder rounds = new StringBuilder();
            for (JsonNode r : n.path("tokens_per_second_rounds")) {
                rounds.append(rounds.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.1f", r.asDouble()));
            }
            t.row(batch, d.getKey(), n.has("k") ? n.get("k").asText() : "-",
                    num(n.path("tokens_per_second_median"), "%.1f"), num(n.path("tokens_per_pass"), "%.2f"),
                    num(n.path("speedup_vs_autoregressive"), "%.2f×"), rounds.toString());
        }
    }

    private static String num(JsonNode n, String format) {
        return n.isNumber() ? String.format(Locale.ROOT, format, n.asDouble()) : "-";
    }

    private static Iterable<Map.Entry<String, JsonNode>> fields(JsonNode n) {
        return n::fields;
    }
}
