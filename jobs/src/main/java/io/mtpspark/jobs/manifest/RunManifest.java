package io.mtpspark.jobs.manifest;

import java.util.List;
import java.util.Map;

/**
 * The job-level record of one run, written as JSON to {@code <output>/manifests/<run_id>.json}: what ran (options,
 * input, model and adapter fingerprints, engine version), when, how many rows went where, and where the outputs
 * are. A resumed run rewrites it with the counts of the latest invocation and the totals of the run. Credentials
 * are never part of it.
 */
public record RunManifest(
        String runId,
        String engineVersion,
        String sparkVersion,
        String startedAt,
        String finishedAt,
        String input,
        String configHash,
        Map<String, Object> options,
        String modelFingerprint,
        String adapterFingerprint,
        List<String> backends,
        Counts rows,
        Map<String, String> outputs) {

    /**
     * Row counts: {@code input} rows read; {@code skippedByResume} already in the output for this config;
     * {@code generated} and {@code failed} in this invocation; {@code runTotal} rows the run's output now holds.
     */
    public record Counts(long input, long skippedByResume, long generated, long failed, long runTotal) {
    }
}
