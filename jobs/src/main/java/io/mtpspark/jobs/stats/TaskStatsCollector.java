package io.mtpspark.jobs.stats;

import io.mtpspark.engine.decode.AdaptiveDecoder;
import io.mtpspark.engine.decode.DecodeStats;
import io.mtpspark.engine.goodput.GoodputPolicy;

import io.mtpspark.engine.decode.GenerationResult;

/**
 * Accumulates one task's generations into a {@link TaskStats}: row and token counts, forward passes, the summed
 * accepted-length histogram and the speedup sample (tokens and nanoseconds of the job's decoder and of the
 * autoregressive reference on the same prompts). Not thread-safe: one per task.
 */
public final class TaskStatsCollector {
    private final String decoder;
    private final int k;
    private long rows;
    private long failedRows;
    private long promptTokens;
    private long generatedTokens;
    private long forwardPasses;
    private DecodeStats decodeStats;
    private long sampleRows;
    private long sampleMtpTokens;
    private long sampleMtpNanos;
    private long sampleArTokens;
    private long sampleArNanos;
    private String decoderSteps;
    private Double predictedTokensPerSecond;
    private Double forwardTokensPerSecond;
    private String costModel;

    public TaskStatsCollector(String decoder, int k) {
        this.decoder = decoder;
        this.k = k;
        this.decodeStats = DecodeStats.empty(decoder, k);
    }

    public void failed(Integer promptTokenCount) {
        rows++;
        failedRows++;
        if (promptTokenCount != null) {
            promptTokens += promptTokenCount;
        }
    }

    public void succeeded(GenerationResult r) {
        rows++;
        promptTokens += r.promptIds().length;
        generatedTokens += r.generatedIds().length;
        forwardPasses += r.forwardPasses();
        DecodeStats s = r.stats();
        if (s != null && s.decoder().equals(decoder) && s.k() == k) {
            decodeStats = decodeStats.plus(s);
        }
    }

    /** Whether any row recorded so far ran an MTP pass (the histogram counts MTP passes only). */
    public boolean ranMtpPass() {
        return hasMtpPass(decodeStats);
    }

    /** Whether {@code s} holds an MTP pass. */
    public static boolean hasMtpPass(DecodeStats s) {
        if (s == null || s.acceptHistogram() == null) {
            return false;
        }
        for (long c : s.acceptHistogram()) {
            if (c != 0) {
                return true;
            }
        }
        return false;
    }

    /** A sampled row: the same prompt decoded by the job's decoder and autoregressively. */
    public void sampled(int mtpTokens, long mtpNanos, int arTokens, long arNanos) {
        sampleRows++;
        sampleMtpTokens += mtpTokens;
        sampleMtpNanos += mtpNanos;
        sampleArTokens += arTokens;
        sampleArNanos += arNanos;
    }

    /** What the adaptive decoder chose over the task: steps per configuration and the policy's reason (JSON), predicted and measured tokens/s, cost model. */
    public void policy(AdaptiveDecoder auto) {
        com.fasterxml.jackson.databind.node.ObjectNode steps =
                com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        auto.stepsByConfig().forEach(steps.putObject("steps")::put);
        if (auto.chooser() instanceof GoodputPolicy p) {
            steps.put("reason", p.reason(auto.batchSize()));
        }
        decoderSteps = steps.toString();
        predictedTokensPerSecond = finite(auto.predictedTokensPerSecond());
        forwardTokensPerSecond = finite(auto.measuredTokensPerSecond());
        if (auto.chooser() instanceof GoodputPolicy p && p.cost() != null) {
            costModel = p.cost().toJson();
        }
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    public long rows() {
        return rows;
    }

    public TaskStats finish(TaskIdentity task, String backend, String device, double wallMs, String modelFingerprint,
                            String adapterFingerprint) {
        Double mtpRate = sampleRows == 0 || sampleMtpNanos == 0 ? null : sampleMtpTokens * 1e9 / sampleMtpNanos;
        Double arRate = sampleRows == 0 || sampleArNanos == 0 ? null : sampleArTokens * 1e9 / sampleArNanos;
        return new TaskStats(task.runId(), task.stageId(), task.partitionId(), task.attempt(), task.executorId(),
                task.host(), backend, device, decoder, k, rows, failedRows, promptTokens, generatedTokens,
                forwardPasses, decodeStats.acceptHistogram().clone(), wallMs, sampleRows, mtpRate, arRate,
                modelFingerprint, adapterFingerprint, decoderSteps, predictedTokensPerSecond, forwardTokensPerSecond,
                costModel);
    }
}
