package io.mtpspark.jobs.progress;

import io.mtpspark.jobs.schema.GenerationRecord;
import java.io.Serializable;
import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

/**
 * The counters tasks bump for every row they produce: rows, generated tokens, error rows. They are Spark
 * accumulators, so the driver sees running tasks' values in executor heartbeats and finished tasks' in their task-end
 * events ({@link ProgressListener}); they feed only the progress line, never an output.
 */
public final class RowProgress implements Serializable {
    private static final long serialVersionUID = 1L;

    private final LongAccumulator rows;
    private final LongAccumulator tokens;
    private final LongAccumulator errors;

    private RowProgress(LongAccumulator rows, LongAccumulator tokens, LongAccumulator errors) {
        this.rows = rows;
        this.tokens = tokens;
        this.errors = errors;
    }

    public static RowProgress register(SparkContext sc) {
        return new RowProgress(sc.longAccumulator("mtp-progress-rows"), sc.longAccumulator("mtp-progress-tokens"),
                sc.longAccumulator("mtp-progress-errors"));
    }

    /** Task side: one produced row. */
    public void record(GenerationRecord r) {
        rows.add(1);
        tokens.add(r.completionTokens());
        if (r.failed()) {
            errors.add(1);
        }
    }

    /** Accumulator ids, in the order rows, tokens, errors. */
    long[] ids() {
        return new long[]{rows.id(), tokens.id(), errors.id()};
    }
}
