package io.mtpspark.jobs.schema;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * What the job needs from its input: {@code id} (string, unique, not null) and {@code prompt} (string or binary) or
 * {@code messages} (a list of {@code {role, content}} structs, or that list as JSON text), optionally
 * {@code max_tokens}, {@code temperature}, {@code seed}, {@code n} (numbers), {@code stop} (a string or a list of
 * strings) and {@code domain} (string). Column
 * names match case-insensitively, as Spark resolves them. {@link #problems} names every missing or mistyped column
 * so the job can refuse to start with one message; {@link #normalise} turns any valid input into the fixed shape
 * the generator reads ({@code prompt} as raw bytes so invalid UTF-8 survives to be reported per row).
 */
public final class InputContract {
    public static final List<String> REQUIRED = List.of("id", "prompt");
    public static final List<String> OPTIONAL = List.of("max_tokens", "temperature", "domain", "seed", "messages", "n",
            "stop");

    private static final Set<DataType> FRACTIONAL = Set.of(DataTypes.FloatType, DataTypes.DoubleType);
    private static final Set<DataType> NUMERIC = Set.of(DataTypes.ByteType, DataTypes.ShortType,
            DataTypes.IntegerType, DataTypes.LongType, DataTypes.FloatType, DataTypes.DoubleType);

    private InputContract() {
    }

    /** Problems with the input's columns, empty when it can be used. */
    public static List<String> problems(StructType schema) {
        List<String> problems = new ArrayList<>();
        // prompt may be replaced by messages
        List<String> missing = REQUIRED.stream().filter(c -> field(schema, c) == null)
                .filter(c -> !(c.equals("prompt") && field(schema, "messages") != null)).toList();
        if (!missing.isEmpty()) {
            problems.add("missing required column" + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing)
                    + " (input has: " + String.join(", ", schema.fieldNames()) + ")"
                    + (missing.contains("prompt") ? "; a messages column may stand in for prompt" : ""));
        }
        expect(schema, "messages", problems, "a list of {role, content} structs or JSON text",
                t -> t.equals(DataTypes.StringType) || t instanceof org.apache.spark.sql.types.ArrayType);
        expect(schema, "stop", problems, "a string or a list of strings", t -> t.equals(DataTypes.StringType)
                || t.equals(DataTypes.createArrayType(DataTypes.StringType, true))
                || t.equals(DataTypes.createArrayType(DataTypes.StringType, false)));
        expect(schema, "id", problems, "a string", t -> t.equals(DataTypes.StringType));
        expect(schema, "prompt", problems, "a string", t -> t.equals(DataTypes.StringType) || t.equals(DataTypes.BinaryType));
        expect(schema, "domain", problems, "a string", t -> t.equals(DataTypes.StringType));
        for (String numeric : List.of("max_tokens", "temperature", "seed", "n")) {
            expect(schema, numeric, problems, "a number", NUMERIC::contains);
        }
        return problems;
    }

    /**
     * The input reduced to {@code id, prompt (binary), domain, max_tokens (int), temperature (double), seed (long),
     * problem (string), messages (JSON text), n (int), stop (list of strings)}, with nulls for absent optional
     * columns. Numbers are converted with {@code try_cast}, so a value that does not fit (a {@code max_tokens} of 1e12) cannot fail the job under ANSI casts; such a value, and
     * a fractional one where an integer belongs (a {@code seed} of 1.5, which a cast would truncate), leaves the
     * setting null and names itself in {@code problem}, which makes the row an error row.
     */
    public static Dataset<Row> normalise(Dataset<Row> input) {
        StructType schema = input.schema();
        StructField messages = field(schema, "messages");
        StructField stop = field(schema, "stop");
        return input.select(
                col(name(schema, "id")).as("id"),
                optional(schema, "prompt", DataTypes.BinaryType),
                optional(schema, "domain", DataTypes.StringType),
                optional(schema, "max_tokens", DataTypes.IntegerType),
                optional(schema, "temperature", DataTypes.DoubleType),
                optional(schema, "seed", DataTypes.LongType),
                problem(schema).as(PROBLEM),
                (messages == null ? lit(null).cast(DataTypes.StringType)
                        : messages.dataType().equals(DataTypes.StringType) ? col(messages.name())
                        : org.apache.spark.sql.functions.to_json(col(messages.name()))).as("messages"),
                optional(schema, "n", DataTypes.IntegerType),
                (stop == null ? lit(null).cast(DataTypes.createArrayType(DataTypes.StringType))
                        : stop.dataType().equals(DataTypes.StringType)
                        ? org.apache.spark.sql.functions.when(col(stop.name()).isNotNull(),
                                org.apache.spark.sql.functions.array(col(stop.name())))
                        : col(stop.name())).as("stop"));
    }

    /** Name of the column {@link #normalise} adds: why the row cannot be generated, null when it can. */
    public static final String PROBLEM = "problem";

    private static Column optional(StructType schema, String column, DataType type) {
        StructField f = field(schema, column);
        return (f == null ? lit(null).cast(type) : integral(f, type)).as(column);
    }

    /** The value as {@code type}, null when it does not convert exactly (see {@link #problem}). */
    private static Column integral(StructField f, DataType type) {
        Column c = col(f.name());
        if (type.equals(DataTypes.DoubleType) || type.equals(DataTypes.StringType)) {
            return c.cast(type);
        }
        Column exact = FRACTIONAL.contains(f.dataType()) ? when(c.equalTo(floor(c)), c) : c;
        return exact.try_cast(type);
    }

    private static Column problem(StructType schema) {
        List<Column> checks = new ArrayList<>();
        for (String column : List.of("max_tokens", "seed")) {
            StructField f = field(schema, column);
            if (f != null) {
                DataType type = column.equals("seed") ? DataTypes.LongType : DataTypes.IntegerType;
                Column c = col(f.name());
                // The words of GenerationChecks.integer, which the CLI and the job's options use.
                checks.add(when(c.isNotNull().and(integral(f, type).isNull()),
                        concat(lit(column + " must be an integer" + (type.equals(DataTypes.IntegerType)
                                ? " in 1.." + Integer.MAX_VALUE : "") + ", got "), c.cast(DataTypes.StringType))));
            }
        }
        return checks.isEmpty() ? lit(null).cast(DataTypes.StringType)
                : coalesce(checks.toArray(Column[]::new));
    }

    private static String name(StructType schema, String column) {
        return field(schema, column).name();
    }

    private static StructField field(StructType schema, String column) {
        for (StructField f : schema.fields()) {
            if (f.name().equalsIgnoreCase(column)) {
                return f;
            }
        }
        return null;
    }

    private static void expect(StructType schema, String column, List<String> problems, String what,
                               java.util.function.Predicate<DataType> ok) {
        StructField f = field(schema, column);
        if (f != null && !ok.test(f.dataType())) {
            problems.add("column " + f.name() + " must be " + what + ", got " + f.dataType().simpleString());
        }
    }
}
