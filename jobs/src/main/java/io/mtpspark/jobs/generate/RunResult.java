package io.mtpspark.jobs.generate;

import io.mtpspark.jobs.manifest.RunManifest;
import io.mtpspark.jobs.stats.TaskStats;
import io.mtpspark.jobs.summary.RunSummary;
import java.util.List;

/** What {@link GenerateRun#run()} returns: the manifest it wrote, the summary and this invocation's task statistics. */
public record RunResult(RunManifest manifest, String manifestLocation, RunSummary summary, List<TaskStats> taskStats) {
    public String runId() {
        return manifest.runId();
    }
}
