package io.mtpspark.jobs.manifest;

import java.util.List;
import java.util.Map;

/**
 * The job-level record of one run, written as JSON to {@code <output>/manifests/<run_id>.json}: what ran (options,
 * input, model and adapter fingerprints, engine version), when, how many rows went where, and where the outputs
 * are, its throughputs, for {@code --decoder auto} what the policy chose and the forward cost model it was
 * calibrated with ({@code decoding}, null otherwise), and with {@code --export} the training file's lines and
 * dropped duplicates ({@code export}, null otherwise). A resumed run rewrites it with the counts of the latest
 * invocation and the totals of the run. Credentials
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
        Map<String, String> outputs,
        Throughput throughput,
        Map<String, Object> decoding,
        io.mtpspark.jobs.export.TrainingExport.Result export) {

    /**
     * The run's throughputs as {@link io.mtpspark.jobs.summary.RunSummary} defines them (overall, per task slot, per
     * sequence, tokens/s) and its measured speedup (vs autoregressive at the same batch size; null = unmeasured).
     */
    public record Throughput(double overallTokensPerS, double perTaskSlotTokensPerS, double perSequenceTokensPerS,
                             Double measuredSpeedup) {
    }

    /**
     * Row counts: {@code input} rows read; {@code skippedByResume} already in the output for this config;
     * {@code generated} and {@code failed} in this invocation; {@code runTotal} rows the run's output now holds.
     */
    public record Counts(long input, long skippedByResume, long generated, long failed, long runTotal) {
    }
}
