package io.mtpspark.jobs.schema;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createArrayType;

import io.mtpspark.jobs.stats.TaskStats;
import java.util.Arrays;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;

/**
 * The Spark schemas of the two output datasets and the conversions from the job's records to rows. Both datasets
 * are partitioned by {@code run_id} on disk, so {@code run_id} is the last column of each schema (Spark moves
 * partition columns to the end when reading back).
 */
public final class OutputSchemas {
    public static final StructType GENERATIONS = new StructType()
            .add("id", StringType, false)
            .add("domain", StringType, true)
            .add("prompt_hash", StringType, true)
            .add("config_hash", StringType, false)
            .add("prompt_tokens", IntegerType, true)
            .add("completion", StringType, true)
            .add("completion_tokens", IntegerType, false)
            .add("finish_reason", StringType, false)
            .add("error", StringType, true)
            .add("decoder", StringType, false)
            .add("k", IntegerType, false)
            .add("forward_passes", IntegerType, false)
            .add("tokens_per_pass", DoubleType, false)
            .add("wall_ms", DoubleType, false)
            .add("model_fingerprint", StringType, true)
            .add("adapter_fingerprint", StringType, true)
            .add("backend", StringType, true)
            .add("executor_id", StringType, true)
            .add("task_attempt", IntegerType, false)
            .add("speedup_sample", BooleanType, false)
            .add("ar_completion_tokens", IntegerType, true)
            .add("ar_wall_ms", DoubleType, true)
            .add("sample_index", IntegerType, false)
            .add("run_id", StringType, false);

    public static final StructType TASK_STATS = new StructType()
            .add("stage_id", IntegerType, false)
            .add("partition_id", IntegerType, false)
            .add("attempt", IntegerType, false)
            .add("executor_id", StringType, true)
            .add("host", StringType, true)
            .add("backend", StringType, true)
            .add("device", StringType, true)
            .add("decoder", StringType, false)
            .add("k", IntegerType, false)
            .add("rows", LongType, false)
            .add("failed_rows", LongType, false)
            .add("prompt_tokens", LongType, false)
            .add("generated_tokens", LongType, false)
            .add("forward_passes", LongType, false)
            .add("tokens_per_pass", DoubleType, false)
            .add("accept_histogram", createArrayType(LongType, false), false)
            .add("wall_ms", DoubleType, false)
            .add("generated_tokens_per_s", DoubleType, false)
            .add("sample_rows", LongType, false)
            .add("sample_mtp_tokens_per_s", DoubleType, true)
            .add("sample_ar_tokens_per_s", DoubleType, true)
            .add("measured_speedup", DoubleType, true)
            .add("model_fingerprint", StringType, true)
            .add("adapter_fingerprint", StringType, true)
            .add("decoder_steps", StringType, true)
            .add("predicted_tokens_per_s", DoubleType, true)
            .add("forward_tokens_per_s", DoubleType, true)
            .add("cost_model", StringType, true)
            .add("run_id", StringType, false);

    private OutputSchemas() {
    }

    public static Row toRow(GenerationRecord g) {
        return RowFactory.create(g.id(), g.domain(), g.promptHash(), g.configHash(), g.promptTokens(), g.completion(),
                g.completionTokens(), g.finishReason(), g.error(), g.decoder(), g.k(), g.forwardPasses(),
                g.tokensPerPass(), g.wallMs(), g.modelFingerprint(), g.adapterFingerprint(), g.backend(),
                g.executorId(), g.taskAttempt(), g.speedupSample(), g.arCompletionTokens(), g.arWallMs(), g.sampleIndex(), g.runId());
    }

    public static Row toRow(TaskStats s) {
        Long[] histogram = Arrays.stream(s.acceptHistogram()).boxed().toArray(Long[]::new);
        return RowFactory.create(s.stageId(), s.partitionId(), s.attempt(), s.executorId(), s.host(), s.backend(),
                s.device(), s.decoder(), s.k(), s.rows(), s.failedRows(), s.promptTokens(), s.generatedTokens(),
                s.forwardPasses(), s.tokensPerPass(), histogram, s.wallMs(), s.generatedTokensPerSecond(),
                s.sampleRows(), s.sampleMtpTokensPerSecond(), s.sampleArTokensPerSecond(), s.measuredSpeedup(),
                s.modelFingerprint(), s.adapterFingerprint(), s.decoderSteps(), s.predictedTokensPerSecond(),
                s.forwardTokensPerSecond(), s.costModel(), s.runId());
    }
}
