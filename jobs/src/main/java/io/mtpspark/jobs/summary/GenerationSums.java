package io.mtpspark.jobs.summary;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.Comparator;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;

/**
 * The sums of {@code generations} rows that the job's summary and the cost report are both built from, grouped by
 * columns the caller names, in one Spark job: rows, errors, completion tokens, forward passes, wall time, the
 * speedup sample's tokens and times on both sides, and the rows of an MTP decoder. A row counts as sampled when it
 * has an autoregressive reference and did not fail. The result is sorted here, after the collect: an
 * {@code orderBy} would cost a Spark job of its own for a handful of groups. Types are given as {@link DataTypes},
 * not as strings, which would start Spark's SQL parser for them.
 */
public final class GenerationSums {
    private GenerationSums() {
    }

    /**
     * One row per group ({@code domain} null reads as "(none)"), with the group columns first and then {@code rows},
     * {@code errors}, {@code tokens}, {@code passes}, {@code wall_ms}, {@code s_rows}, {@code s_tokens},
     * {@code s_ms}, {@code ar_tokens}, {@code ar_ms}, {@code mtp_rows}; sorted by the group columns (strings).
     */
    public static List<Row> by(Dataset<Row> generations, String... groupColumns) {
        Column sampled = col("speedup_sample").and(col("ar_wall_ms").isNotNull())
                .and(col("finish_reason").notEqual("error"));
        Column[] groups = new Column[groupColumns.length];
        for (int i = 0; i < groups.length; i++) {
            groups[i] = col(groupColumns[i]);
        }
        List<Row> rows = generations.withColumn("domain", coalesce(col("domain"), lit("(none)")))
                .groupBy(groups)
                .agg(count(lit(1)).as("rows"),
                        sum(when(col("finish_reason").equalTo("error"), 1L).otherwise(0L)).as("errors"),
                        sum(asLong("completion_tokens")).as("tokens"),
                        sum(asLong("forward_passes")).as("passes"),
                        sum(col("wall_ms")).as("wall_ms"),
                        sum(when(sampled, 1L).otherwise(0L)).as("s_rows"),
                        sum(when(sampled, asLong("completion_tokens"))).as("s_tokens"),
                        sum(when(sampled, col("wall_ms"))).as("s_ms"),
                        sum(when(sampled, asLong("ar_completion_tokens"))).as("ar_tokens"),
                        sum(when(sampled, col("ar_wall_ms"))).as("ar_ms"),
                        sum(when(col("decoder").equalTo("autoregressive"), 0L).otherwise(1L)).as("mtp_rows"))
                .collectAsList();
        Comparator<Row> order = Comparator.comparing((Row r) -> r.getString(0),
                Comparator.nullsFirst(String::compareTo));
        for (int i = 1; i < groupColumns.length; i++) {
            int column = i;
            order = order.thenComparing(r -> r.getString(column), Comparator.nullsFirst(String::compareTo));
        }
        return rows.stream().sorted(order).toList();
    }

    private static Column asLong(String column) {
        return col(column).cast(DataTypes.LongType);
    }

    /** A sum as a long, 0 when null (a group with no such values). */
    public static long longOf(Row r, String field) {
        int i = r.fieldIndex(field);
        return r.isNullAt(i) ? 0 : ((Number) r.get(i)).longValue();
    }

    /** A sum as a double, 0 when null. */
    public static double doubleOf(Row r, String field) {
        int i = r.fieldIndex(field);
        return r.isNullAt(i) ? 0 : ((Number) r.get(i)).doubleValue();
    }
}
