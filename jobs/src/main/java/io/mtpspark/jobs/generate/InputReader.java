package io.mtpspark.jobs.generate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.input_file_name;

import io.mtpspark.jobs.chat.PromptTemplate;
import io.mtpspark.jobs.cli.GenerateOptions;
import io.mtpspark.jobs.schema.InputContract;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * Reads the job's input and refuses it at start, naming the file and the problem, when it cannot be used: it cannot
 * be read (a truncated Parquet file, files whose schemas disagree), it is empty, a JSON line is malformed, columns
 * are missing or mistyped, ids are null or repeated. Rows that can be read but not generated (a bad value) pass on
 * as rows with a {@code problem} and become error rows.
 *
 * <p>JSON lines are parsed once and kept ({@link StorageLevel#MEMORY_AND_DISK}) for the run. That is what makes
 * the checks true of the rows the tasks later see: Spark's JSON reader parses only the columns a query needs, so a
 * line whose prompt holds invalid UTF-8 parses fine for a query of {@code id} alone and becomes an all-null record
 * when the prompt is read too (issue 17: the job then failed after generating). Parquet needs no copy.
 */
final class InputReader implements AutoCloseable {
    private static final String CORRUPT = "_corrupt_record";
    private static final String FILE = "_mtp_input_file";
    private static final int EXAMPLES = 3;

    private final SparkSession spark;
    private final GenerateOptions options;
    private Dataset<Row> kept;
    private long rows = -1;

    InputReader(SparkSession spark, GenerateOptions options) {
        this.spark = spark;
        this.options = options;
    }

    /** Rows of the input {@link #read} accepted (counted by its checks, so the job needs no count of its own). */
    long rows() {
        if (rows < 0) {
            throw new IllegalStateException("read() first");
        }
        return rows;
    }

    /** The normalised input ({@link InputContract#normalise}), or {@link InputRejectedException}. */
    Dataset<Row> read() {
        try {
            return check(load());
        } catch (InputRejectedException e) {
            throw e;
        } catch (Exception e) {
            // A truncated or foreign file fails the first Spark job that touches it: still before any generation.
            throw rejected("cannot read it: " + rootMessage(e));
        }
    }

    private Dataset<Row> load() {
        if (!options.jsonInput()) {
            return spark.read().parquet(options.input());
        }
        Dataset<Row> raw = spark.read().json(options.input());
        if (raw.schema().isEmpty()) {
            throw rejected("it is empty (no JSON lines)");
        }
        kept = raw.withColumn(FILE, input_file_name()).persist(StorageLevel.MEMORY_AND_DISK());
        if (List.of(raw.schema().fieldNames()).contains(CORRUPT)) {
            refuseMalformedLines(kept);
        }
        return kept.drop(CORRUPT, FILE);
    }

    private void refuseMalformedLines(Dataset<Row> lines) {
        Dataset<Row> bad = lines.where(col(CORRUPT).isNotNull());
        long count = bad.count();
        if (count == 0) {
            return;
        }
        List<String> examples = new ArrayList<>();
        for (Row r : bad.select(col(FILE), col(CORRUPT)).limit(EXAMPLES).collectAsList()) {
            examples.add(r.getString(0) + ": " + excerpt(r.getString(1)));
        }
        throw rejected(count + " line(s) are not valid JSON objects in UTF-8, e.g. " + String.join(" | ", examples)
                + " (fix or remove them; invalid bytes show as \uFFFD)");
    }

    private Dataset<Row> check(Dataset<Row> raw) {
        if (options.promptTemplate().isPresent()) {
            PromptTemplate template = new PromptTemplate(options.promptTemplate().get());
            List<String> missing = template.missing(raw.schema());
            if (!missing.isEmpty()) {
                throw new InputRejectedException(options.input(), List.of("--prompt-template uses column"
                        + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing) + " that the input lacks"
                        + " (input has: " + String.join(", ", raw.schema().fieldNames()) + ")"));
            }
            raw = raw.withColumn("prompt", template.prompt(raw.schema()));
        }
        List<String> problems = new ArrayList<>(InputContract.problems(raw.schema()));
        if (!problems.isEmpty()) {
            throw new InputRejectedException(options.input(), problems);
        }
        Dataset<Row> prompts = InputContract.normalise(raw);
        // every row check in one Spark job (a job costs ~0.2-1 s of scheduling on a small input): rows, null ids,
        // repeated ids, out-of-range n, greedy n > 1
        Dataset<Row> byId = prompts.groupBy(col("id")).agg(count(lit(1)).as("c"),
                sum(when(Samples.badN(), 1L).otherwise(0L)).as("bad_n"),
                sum(when(Samples.greedyManySamples(options.n(), options.temperature()), 1L).otherwise(0L))
                        .as("greedy_n"));
        Row totals = byId.agg(sum(col("c")), sum(when(col("id").isNull(), col("c")).otherwise(0L)),
                sum(when(col("id").isNotNull().and(col("c").gt(1)), 1L).otherwise(0L)), sum(col("bad_n")),
                sum(col("greedy_n"))).first();
        rows = totals.isNullAt(0) ? 0 : totals.getLong(0);
        long nullIds = totals.isNullAt(1) ? 0 : totals.getLong(1);
        if (nullIds > 0) {
            problems.add(nullIds + " row(s) have a null id");
        }
        if (!totals.isNullAt(2) && totals.getLong(2) > 0) {
            List<Row> duplicates = byId.where(col("id").isNotNull().and(col("c").gt(1))).orderBy(col("id"))
                    .select(col("id"), col("c")).limit(11).collectAsList();
            List<String> ids = duplicates.stream().limit(10).map(r -> "\"" + r.getString(0) + "\" (x" + r.getLong(1) + ")").toList();
            problems.add("duplicate ids: " + String.join(", ", ids) + (duplicates.size() > 10 ? ", …" : ""));
        }
        problems.addAll(Samples.problems(totals.isNullAt(3) ? 0 : totals.getLong(3),
                totals.isNullAt(4) ? 0 : totals.getLong(4)));
        if (!problems.isEmpty()) {
            throw new InputRejectedException(options.input(), problems);
        }
        return prompts;
    }

    private InputRejectedException rejected(String problem) {
        close();
        return new InputRejectedException(options.input(), List.of(problem));
    }

    /** A line cut to a readable length with control characters escaped, so the message stays one line. */
    static String excerpt(String line) {
        String cut = line.length() > 100 ? line.substring(0, 100) + "…" : line;
        StringBuilder sb = new StringBuilder();
        cut.codePoints().forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\u%04x", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.toString();
    }

    /** The innermost cause's message, first line only: Spark's outer layers quote stack traces. */
    static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return m.lines().findFirst().orElse(m);
    }

    @Override
    public void close() {
        if (kept != null) {
            kept.unpersist();
            kept = null;
        }
    }
}
