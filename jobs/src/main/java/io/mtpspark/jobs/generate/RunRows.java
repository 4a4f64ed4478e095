package io.mtpspark.jobs.generate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;

import io.mtpspark.jobs.schema.GenerationRecord;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;

/**
 * The current result of each row of a run: output is append-only, so when a resumed run generates an error row
 * again ({@code --resume} retries errors by default) the old error row stays as history beside the new result.
 * The current one per {@code (run_id, id, config_hash)} is a success if there is one, else an error row.
 * Everything that counts a run's rows (the summary, the manifest, resume, the cost report) reads them through here,
 * so an id counts once.
 */
public final class RunRows {
    private RunRows() {
    }

    public static Dataset<Row> current(Dataset<Row> runRows) {
        WindowSpec byRow = Window.partitionBy(col("run_id"), col("id"), col("config_hash")).orderBy(
                when(col("finish_reason").equalTo(GenerationRecord.ERROR), 1).otherwise(0),
                col("task_attempt").desc());
        return runRows.withColumn("_mtp_rank", row_number().over(byRow)).where(col("_mtp_rank").equalTo(1))
                .drop("_mtp_rank");
    }
}
