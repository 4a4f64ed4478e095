package io.mtpspark.jobs.generate;

import static org.apache.spark.sql.functions.col;

import io.mtpspark.jobs.schema.GenerationRecord;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What a resumed run still has to generate: the input rows that have no current result ({@link RunRows}) under the
 * same run id and config hash, counting error rows as not done unless {@code --no-retry-errors}. {@code note} is the
 * line the console prints about it (null for a run that is not resumed).
 *
 * @param todo          input rows (one per sample) to generate
 * @param skipped       input rows (samples) already done
 * @param retriedErrors input rows whose earlier error row is generated again
 */
record ResumePlan(Dataset<Row> todo, long skipped, long retriedErrors, String note) {

    static ResumePlan fresh(Dataset<Row> prompts) {
        return new ResumePlan(prompts, 0, 0, null);
    }

    /**
     * @param runRows the run's existing rows, or null when the run has none (a warning, not an error: the first
     *                invocation of a run that is always started with {@code --resume} has nothing yet)
     */
    static ResumePlan of(Dataset<Row> prompts, long inputRows, Dataset<Row> runRows, String runId,
                         String configHash, boolean retryErrors) {
        if (runRows == null) {
            return new ResumePlan(prompts, 0, 0, "warning: --resume: run " + runId + " has no rows yet; starting it"
                    + " fresh (check --run-id and --output if you meant to continue an earlier run)");
        }
        Dataset<Row> current = RunRows.current(runRows.where(col("config_hash").equalTo(configHash)));
        Dataset<Row> done = retryErrors ? current.where(col("finish_reason").notEqual(GenerationRecord.ERROR))
                : current;
        // keyed by (id, sample_index): a resumed run with a larger n generates only the new samples
        Dataset<Row> doneIds = Samples.done(done);
        Dataset<Row> todo = prompts.join(doneIds, prompts.col("id").equalTo(doneIds.col("done_id"))
                .and(prompts.col("sample_index").equalTo(doneIds.col("done_sample"))), "left_anti");
        long skipped = inputRows - todo.count();
        long retried = 0;
        if (retryErrors) {
            Dataset<Row> errorIds = Samples.done(current.where(col("finish_reason").equalTo(GenerationRecord.ERROR)));
            retried = prompts.join(errorIds, prompts.col("id").equalTo(errorIds.col("done_id"))
                    .and(prompts.col("sample_index").equalTo(errorIds.col("done_sample"))), "left_semi").count();
        }
        long other = runRows.where(col("config_hash").notEqual(configHash)).limit(1).count();
        String note = "resume " + runId + ": " + skipped + " of " + inputRows + " rows already done, "
                + (inputRows - skipped) + " to generate" + (retryErrors ? " (" + retried + " earlier error rows retried)"
                : " (error rows kept: --no-retry-errors)")
                + (other > 0 && skipped == 0 ? "; the run has rows of another configuration (config_hash differs:"
                + " model content or settings changed), which are not reused" : "");
        return new ResumePlan(todo, skipped, retried, note);
    }
}
