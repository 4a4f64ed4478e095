package io.mtpspark.jobs.generate;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;

import io.mtpspark.jobs.schema.GenerationRecord;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;

/**
 * The current result of each row of a run: output is append-only, so when a resumed run generates an error row
 * again ({@code --resume} retries errors by default) the old error row stays as history beside the new result.
 * The current one per {@code (run_id, id, sample_index, config_hash)} is a success if there is one, else an error
 * row. Everything that counts a run's rows (the summary, the manifest, resume, the cost report) reads them through
 * here, so an id (and sample) counts once.
 */
public final class RunRows {
    private RunRows() {
    }

    public static Dataset<Row> current(Dataset<Row> runRows) {
        // one result per (run, id, sample, config): rows written before samples existed are sample 0
        Column sample = java.util.Arrays.asList(runRows.columns()).contains("sample_index")
                ? coalesce(col("sample_index"), lit(0)) : lit(0);
        WindowSpec byRow = Window.partitionBy(col("run_id"), col("id"), sample, col("config_hash")).orderBy(
                when(col("finish_reason").equalTo(GenerationRecord.ERROR), 1).otherwise(0),
                col("task_attempt").desc());
        return runRows.withColumn("_mtp_rank", row_number().over(byRow)).where(col("_mtp_rank").equalTo(1))
                .drop("_mtp_rank");
    }
}
