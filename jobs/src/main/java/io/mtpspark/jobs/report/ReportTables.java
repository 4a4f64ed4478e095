package io.mtpspark.jobs.report;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * The report's Parquet tables under {@code --out}: {@code by_run_domain}, {@code by_run}, {@code by_day},
 * {@code by_domain} (all with the {@link #COST} columns; grouping columns a table does not group by are null),
 * {@code slowest_tasks}, {@code tokens_per_pass} and {@code policy_choices} (one row per run and configuration
 * {@code --decoder auto} used: steps, share, predicted and measured forward tokens/s, reason). Each report replaces the previous tables: a report is a
 * snapshot over the runs it was given, not an append-only log.
 */
public final class ReportTables {
    public static final StructType COST = new StructType()
            .add("run_id", StringType, true)
            .add("day", StringType, true)
            .add("domain", StringType, true)
            .add("instance_type", StringType, false)
            .add("device_kind", StringType, false)
            .add("usd_per_task_hour", DoubleType, false)
            .add("rows", LongType, false)
            .add("errors", LongType, false)
            .add("error_rate", DoubleType, false)
            .add("generated_tokens", LongType, false)
            .add("forward_passes", LongType, false)
            .add("tokens_per_pass", DoubleType, false)
            .add("compute_seconds", DoubleType, false)
            .add("compute_hours", DoubleType, false)
            .add("tokens_per_s", DoubleType, false)
            .add("measured_speedup", DoubleType, false)
            .add("speedup_assumed", BooleanType, false)
            .add("cost_usd", DoubleType, false)
            .add("usd_per_1m_tokens", DoubleType, true)
            .add("ar_compute_hours", DoubleType, false)
            .add("ar_cost_usd", DoubleType, false)
            .add("ar_usd_per_1m_tokens", DoubleType, true)
            .add("savings_usd", DoubleType, false);

    public static final StructType SLOWEST_TASKS = new StructType()
            .add("rank", IntegerType, false)
            .add("run_id", StringType, false)
            .add("partition_id", IntegerType, false)
            .add("attempt", IntegerType, false)
            .add("executor_id", StringType, true)
            .add("host", StringType, true)
            .add("device", StringType, true)
            .add("rows", LongType, false)
            .add("failed_rows", LongType, false)
            .add("generated_tokens", LongType, false)
            .add("wall_seconds", DoubleType, false)
            .add("tokens_per_s", DoubleType, false)
            .add("measured_speedup", DoubleType, true)
            .add("instance_type", StringType, false)
            .add("cost_usd", DoubleType, false);

    public static final StructType POLICY_CHOICES = new StructType()
            .add("run_id", StringType, false)
            .add("configuration", StringType, false)
            .add("steps", LongType, false)
            .add("share", DoubleType, false)
            .add("predicted_forward_tokens_per_s", DoubleType, true)
            .add("measured_forward_tokens_per_s", DoubleType, true)
            .add("reason", StringType, true);

    public static final StructType TOKENS_PER_PASS = new StructType()
            .add("tokens", IntegerType, false)
            .add("passes", LongType, false);

    private ReportTables() {
    }

    /** Writes every table; returns table name to location. */
    public static Map<String, String> write(SparkSession spark, ReportData data, String out) {
        String base = out.endsWith("/") ? out.substring(0, out.length() - 1) : out;
        Map<String, String> written = new LinkedHashMap<>();
        Map<String, List<CostLine>> costTables = new LinkedHashMap<>();
        costTables.put("by_run_domain", data.byRunDomain());
        costTables.put("by_run", data.byRun());
        costTables.put("by_day", data.byDay());
        costTables.put("by_domain", data.byDomain());
        costTables.forEach((name, lines) -> written.put(name,
                write(spark, lines.stream().map(ReportTables::toRow).toList(), COST, base + "/" + name)));
        List<Row> slow = new java.util.ArrayList<>();
        for (int i = 0; i < data.slowestTasks().size(); i++) {
            slow.add(toRow(i + 1, data.slowestTasks().get(i)));
        }
        written.put("slowest_tasks", write(spark, slow, SLOWEST_TASKS, base + "/slowest_tasks"));
        written.put("tokens_per_pass", write(spark, data.passDistribution().stream()
                .map(b -> RowFactory.create(b.tokens(), b.passes())).toList(), TOKENS_PER_PASS, base + "/tokens_per_pass"));
        List<Row> choices = new java.util.ArrayList<>();
        for (RunPolicy p : data.policies()) {
            p.steps().forEach((config, steps) -> choices.add(RowFactory.create(p.runId(), config, steps,
                    p.share(config), p.predictedTokensPerSecond(), p.measuredTokensPerSecond(), p.reason())));
        }
        written.put("policy_choices", write(spark, choices, POLICY_CHOICES, base + "/policy_choices"));
        return written;
    }

    private static String write(SparkSession spark, List<Row> rows, StructType schema, String location) {
        spark.createDataFrame(rows, schema).coalesce(1).write().mode(SaveMode.Overwrite).parquet(location);
        return location;
    }

    static Row toRow(CostLine l) {
        return RowFactory.create(l.runId(), l.day(), l.domain(), l.instanceType(), l.deviceKind(), l.usdPerTaskHour(),
                l.rows(), l.errors(), l.errorRate(), l.generatedTokens(), l.forwardPasses(), l.tokensPerPass(),
                l.computeSeconds(), l.computeHours(), l.tokensPerSecond(), l.measuredSpeedup(), l.speedupAssumed(),
                l.costUsd(), l.usdPerMillionTokens(), l.arComputeHours(), l.arCostUsd(), l.arUsdPerMillionTokens(),
                l.savingsUsd());
    }

    static Row toRow(int rank, TaskCost c) {
        TaskUsage t = c.task();
        return RowFactory.create(rank, t.runId(), t.partitionId(), t.attempt(), t.executorId(), t.host(), t.device(),
                t.rows(), t.failedRows(), t.generatedTokens(), t.wallMs() / 1000, t.tokensPerSecond(),
                t.measuredSpeedup(), c.instanceType(), c.costUsd());
    }
}
