package io.mtpspark.jobs.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * What the report knows about a run besides its datasets: the day it is booked on (UTC date of the manifest's
 * {@code started_at}, or {@code unknown} without a manifest) and the instance type it is priced at, with where
 * that type came from ({@code option}: the report's {@code --instance-type}; {@code manifest}: the generation
 * job's recorded {@code instance-type}; {@code default}: the report's {@code --default-instance-type}).
 */
public record RunInfo(String runId, String startedAt, String day, String instanceType, String instanceTypeSource) {
    public static final String UNKNOWN_DAY = "unknown";

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Resolves a run from its manifest JSON (null when the run has none). A resumed run's manifest carries the
     * start of its latest invocation, so the whole run is booked on that day.
     */
    public static RunInfo resolve(String runId, String manifestJson, Optional<String> instanceTypeOption,
                                  String defaultInstanceType) {
        String startedAt = null;
        String recordedType = null;
        if (manifestJson != null) {
            try {
                JsonNode m = JSON.readTree(manifestJson);
                startedAt = text(m.get("started_at"));
                recordedType = text(m.path("options").get("instance-type"));
            } catch (IOException e) {
                throw new IllegalArgumentException("manifest of run " + runId + " is not valid JSON: " + e.getMessage(), e);
            }
        }
        String day = UNKNOWN_DAY;
        if (startedAt != null) {
            try {
                day = Instant.parse(startedAt).atZone(ZoneOffset.UTC).toLocalDate().toString();
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("manifest of run " + runId + ": started_at \"" + startedAt
                        + "\" is not an ISO-8601 instant", e);
            }
        }
        if (instanceTypeOption.isPresent()) {
            return new RunInfo(runId, startedAt, day, instanceTypeOption.get(), "option");
        }
        if (recordedType != null && !recordedType.isBlank()) {
            return new RunInfo(runId, startedAt, day, recordedType, "manifest");
        }
        return new RunInfo(runId, startedAt, day, defaultInstanceType, "default");
    }

    private static String text(JsonNode n) {
        return n == null || n.isNull() ? null : n.asText();
    }
}
