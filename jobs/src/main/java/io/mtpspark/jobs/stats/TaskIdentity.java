package io.mtpspark.jobs.stats;

import java.io.Serializable;

/**
 * Where a partition is being generated: run, Spark stage/partition/attempt, executor and host. Built from
 * {@code TaskContext} inside Spark and by hand in unit tests.
 */
public record TaskIdentity(String runId, int stageId, int partitionId, int attempt, String executorId, String host)
        implements Serializable {
}
