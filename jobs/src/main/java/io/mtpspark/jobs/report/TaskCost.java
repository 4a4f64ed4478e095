package io.mtpspark.jobs.report;

/** One task with its cost at its run's price: a row of the slowest-tasks table. */
public record TaskCost(TaskUsage task, String instanceType, double costUsd) {
}
