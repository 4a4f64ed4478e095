package io.mtpspark.jobs.stats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What {@code --decoder auto} chose over a run, from its tasks' statistics: steps per configuration (summed), the
 * policy's predicted and the measured forward tokens/s (token-weighted over tasks), and the distinct forward cost
 * models the tasks used (one per model, backend and device, calibrated once per executor). Null for runs without
 * an adaptive decoder.
 */
public record DecodingSummary(Map<String, Long> steps, Double predictedTokensPerSecond, Double forwardTokensPerSecond,
                              List<JsonNode> costModels, String reason) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static DecodingSummary of(List<TaskStats> stats) {
        Map<String, Long> steps = new LinkedHashMap<>();
        Set<String> costs = new LinkedHashSet<>();
        double predicted = 0;
        double forward = 0;
        long weight = 0;
        String reason = null;
        for (TaskStats s : stats) {
            if (s.decoderSteps() == null) {
                continue;
            }
            try {
                JsonNode n = JSON.readTree(s.decoderSteps());
                n.path("steps").fields().forEachRemaining(e -> steps.merge(e.getKey(), e.getValue().asLong(),
                        Long::sum));
                if (reason == null && n.hasNonNull("reason")) {
                    reason = n.get("reason").asText();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (s.predictedTokensPerSecond() != null && s.forwardTokensPerSecond() != null) {
                predicted += s.predictedTokensPerSecond() * s.generatedTokens();
                forward += s.forwardTokensPerSecond() * s.generatedTokens();
                weight += s.generatedTokens();
            }
            if (s.costModel() != null) {
                costs.add(s.costModel());
            }
        }
        if (steps.isEmpty()) {
            return null;
        }
        List<JsonNode> models = new ArrayList<>();
        for (String c : costs) {
            try {
                models.add(JSON.readTree(c));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new DecodingSummary(steps, weight == 0 ? null : predicted / weight,
                weight == 0 ? null : forward / weight, models, reason);
    }

    /** "quadratic k=8 62%, autoregressive 38% of steps; forward tokens/s predicted 5,100, measured 4,800". */
    public String line() {
        long total = steps.values().stream().mapToLong(Long::longValue).sum();
        StringBuilder b = new StringBuilder();
        steps.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).forEach(e -> {
            b.append(b.length() == 0 ? "" : ", ").append(e.getKey())
                    .append(String.format(Locale.ROOT, " %.0f%%", 100.0 * e.getValue() / total));
        });
        b.append(" of steps");
        if (predictedTokensPerSecond != null) {
            b.append(String.format(Locale.ROOT, "; forward tokens/s predicted %,.0f, measured %,.0f",
                    predictedTokensPerSecond, forwardTokensPerSecond));
        }
        if (reason != null) {
            b.append(System.lineSeparator()).append("  why: ").append(reason);
        }
        return b.toString();
    }

    /** For the run manifest. */
    public Map<String, Object> toManifest() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("steps_by_config", steps);
        m.put("predicted_forward_tokens_per_s", predictedTokensPerSecond);
        m.put("measured_forward_tokens_per_s", forwardTokensPerSecond);
        m.put("reason", reason);
        m.put("cost_models", costModels);
        return m;
    }
}
