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
        JsonNode roof = result.path("roofline");
        if (roof.isObject()) {
            sb.append(String.format(Locale.ROOT, "roofline (%d threads, same run): read bandwidth %.2f GB/s, FMA peak "
                            + "%.1f GFLOP/s, in-cache matmul %.1f GFLOP/s%n", roof.path("threads").asInt(),
                    roof.path("read_gb_per_s").asDouble(), roof.path("fma_peak_gflops").asDouble(),
                    roof.path("in_cache_matmul_gflops").asDouble()));
        }
        if (result.has("block_ms")) {
            sb.append(String.format(Locale.ROOT, "one block forward after %d cached positions, median of %d rounds%n",
                    result.path("cache_positions").asInt(), result.path("repeats").asInt()));
            TextTable t = roof.isObject()
                    ? new TextTable(1, "rows", "median ms", "vs 1 row", "weight GB/s", "% of bandwidth",
                    "% of bandwidth around it", "GFLOP/s", "% of FMA peak", "% of peak around it")
                    : new TextTable(1, "rows", "median ms", "vs 1 row");
            for (Map.Entry<String, JsonNode> e : fields(result.get("block_ms"))) {
                JsonNode r = e.getValue();
                String ms = num(r.path("median_ms"), "%.3f");
                String rel = num(r.path("relative_to_1_row"), "%.2f×");
                if (roof.isObject()) {
                    t.row(e.getKey(), ms, rel, num(r.path("weight_gb_per_s"), "%.2f"),
                            num(r.path("pct_of_read_bandwidth"), "%.0f%%"),
                            num(r.path("paired_pct_of_read_bandwidth"), "%.0f%%"), num(r.path("gflops"), "%.1f"),
                            num(r.path("pct_of_fma_peak"), "%.0f%%"),
                            num(r.path("paired_pct_of_fma_peak"), "%.0f%%"));
                } else {
                    t.row(e.getKey(), ms, rel);
                }
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
        sb.append(t.render());
        JsonNode ar = result.path("decoders").path("autoregressive");
        if (ar.has("pct_of_read_bandwidth")) {
            sb.append(String.format(Locale.ROOT, "batch-1 autoregressive decoding reads %.2f GB/s of weights: %.0f%% of "
                    + "the measured read bandwidth%n", ar.path("weight_gb_per_s").asDouble(),
                    ar.path("pct_of_read_bandwidth").asDouble()));
        }
        return sb.toString();
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
