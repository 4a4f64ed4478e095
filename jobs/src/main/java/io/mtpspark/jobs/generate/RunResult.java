package io.mtpspark.jobs.generate;

import io.mtpspark.jobs.manifest.RunManifest;
import io.mtpspark.jobs.stats.TaskStats;
import io.mtpspark.jobs.summary.RunSummary;
import java.util.List;

/**
 * What {@link GenerateRun#run()} returns: the manifest it wrote, the summary, this invocation's task statistics and,
 * for a resumed run, the line saying what resume skipped or retried (null otherwise).
 */
public record RunResult(RunManifest manifest, String manifestLocation, RunSummary summary, List<TaskStats> taskStats,
                        String resumeNote) {
    public String runId() {
        return manifest.runId();
    }
}
