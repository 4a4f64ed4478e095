package io.mtpspark.jobs.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code --decoder auto} chose over one run: decoding steps per configuration summed over its committed tasks
 * (from each task's {@code decoder_steps}), the policy's reason as the task with the most steps stated it, and the
 * forward tokens/s the policy predicted and measured (means over the tasks, weighted by their steps). Runs with a
 * fixed decoder have none.
 */
public record RunPolicy(String runId, Map<String, Long> steps, String reason, Double predictedTokensPerSecond,
                        Double measuredTokensPerSecond) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public long totalSteps() {
        return steps.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Share of the run's steps decoded with {@code configuration} (0 to 1). */
    public double share(String configuration) {
        long total = totalSteps();
        return total == 0 ? 0 : steps.getOrDefault(configuration, 0L) / (double) total;
    }

    /** One summary per run whose tasks recorded policy steps, in the order runs first appear. */
    public static List<RunPolicy> of(List<TaskUsage> tasks) {
        Map<String, Acc> byRun = new LinkedHashMap<>();
        for (TaskUsage t : tasks) {
            if (t.decoderSteps() == null || t.decoderSteps().isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = JSON.readTree(t.decoderSteps());
            } catch (IOException e) {
                throw new IllegalArgumentException("run " + t.runId() + ", partition " + t.partitionId()
                        + ": decoder_steps is not valid JSON: " + e.getMessage(), e);
            }
            Acc a = byRun.computeIfAbsent(t.runId(), r -> new Acc());
            long taskSteps = 0;
            for (var it = node.path("steps").fields(); it.hasNext(); ) {
                var e = it.next();
                long n = e.getValue().asLong();
                a.steps.merge(e.getKey(), n, Long::sum);
                taskSteps += n;
            }
            if (taskSteps > a.reasonSteps && node.hasNonNull("reason")) {
                a.reason = node.get("reason").asText();
                a.reasonSteps = taskSteps;
            }
            a.predicted.add(t.predictedTokensPerSecond(), taskSteps);
            a.measured.add(t.forwardTokensPerSecond(), taskSteps);
        }
        List<RunPolicy> out = new ArrayList<>();
        byRun.forEach((run, a) -> out.add(new RunPolicy(run, a.steps, a.reason, a.predicted.mean(),
                a.measured.mean())));
        return out;
    }

    private static final class Acc {
        final Map<String, Long> steps = new LinkedHashMap<>();
        String reason;
        long reasonSteps = -1;
        final Weighted predicted = new Weighted();
        final Weighted measured = new Weighted();
    }

    /** A mean weighted by steps over the tasks that have a value. */
    private static final class Weighted {
        double sum;
        double weight;

        void add(Double value, long steps) {
            if (value != null && Double.isFinite(value) && steps > 0) {
                sum += value * steps;
                weight += steps;
            }
        }

        Double mean() {
            return weight == 0 ? null : sum / weight;
        }
    }
}
