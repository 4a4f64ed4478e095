package io.mtpspark.jobs.generate;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sequence;

import io.mtpspark.jobs.cli.GenerateOptions;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * n samples per prompt: each input row becomes n rows ({@code sample_index} 0..n-1, n from the row's {@code n}
 * column or {@code --n}); outputs and resume are keyed by ({@code id}, {@code sample_index}).
 */
final class Samples {
    private Samples() {
    }

    static Dataset<Row> expand(Dataset<Row> input, int n) {
        return input.withColumn("sample_index", explode(sequence(lit(0), coalesce(col("n"), lit(n)).minus(1))));
    }

    /** The (id, sample) keys a run already has; rows written before samples existed are sample 0. */
    static Dataset<Row> done(Dataset<Row> generations) {
        boolean hasSamples = java.util.Arrays.asList(generations.columns()).contains("sample_index");
        return generations.select(col("id").as("done_id"), (hasSamples ? coalesce(col("sample_index"), lit(0))
                : lit(0)).as("done_sample")).distinct();
    }

    /** A row whose n is out of range. */
    static Column badN() {
        return col("n").lt(1).or(col("n").gt(GenerateOptions.MAX_N));
    }

    /** A row asking for n > 1 samples under greedy decoding (it would repeat one text n times). */
    static Column greedyManySamples(int n, double temperature) {
        return coalesce(col("n"), lit(n)).gt(1).and(coalesce(col("temperature"), lit(temperature)).equalTo(0));
    }

    /** The problems from the counts of {@link #badN} and {@link #greedyManySamples} rows. */
    static List<String> problems(long badN, long greedyManySamples) {
        List<String> problems = new ArrayList<>();
        if (badN > 0) {
            problems.add(badN + " row(s) have n outside 1.." + GenerateOptions.MAX_N);
        }
        if (greedyManySamples > 0) {
            problems.add(greedyManySamples + " row(s) ask for n > 1 samples with greedy decoding (temperature 0), "
                    + "which would repeat one text n times; give them a temperature > 0");
        }
        return problems;
    }
}
