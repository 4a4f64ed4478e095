package io.mtpspark.jobs.chat;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * {@code --prompt-template "Summarise in one line: {text}"}: each row's prompt built from its columns, as a Spark
 * expression on the driver. {@code {name}} is the column's value as text ({@code {{} and {@code }}} are literal
 * braces); a column the input lacks refuses the job at start, naming it. A row whose column is null gets a null
 * prompt and so an error row.
 */
public final class PromptTemplate {
    private final List<String> literals = new ArrayList<>(); // literals.get(i) precedes columns.get(i)
    private final List<String> columns = new ArrayList<>();
    private final String source;

    public PromptTemplate(String source) {
        this.source = source;
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < source.length(); i++) {
            char c = source.charAt(i);
            if ((c == '{' || c == '}') && i + 1 < source.length() && source.charAt(i + 1) == c) {
                text.append(c);
                i++;
            } else if (c == '{') {
                int end = source.indexOf('}', i);
                if (end < 0) {
                    throw new IllegalArgumentException("--prompt-template: unclosed '{' at " + i + " in \"" + source
                            + "\"");
                }
                String name = source.substring(i + 1, end).trim();
                if (name.isEmpty()) {
                    throw new IllegalArgumentException("--prompt-template: empty {} at " + i);
                }
                literals.add(text.toString());
                text.setLength(0);
                columns.add(name);
                i = end;
            } else {
                text.append(c);
            }
        }
        literals.add(text.toString());
        if (columns.isEmpty()) {
            throw new IllegalArgumentException("--prompt-template names no {column}: \"" + source + "\"");
        }
    }

    /** Referenced columns the input does not have (matched case-insensitively, as Spark resolves names). */
    public List<String> missing(StructType schema) {
        return columns.stream().filter(c -> field(schema, c) == null).distinct().toList();
    }

    /** The prompt expression. */
    public Column prompt(StructType schema) {
        List<Column> parts = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            parts.add(lit(literals.get(i)));
            parts.add(col(field(schema, columns.get(i)).name()).cast(DataTypes.StringType));
        }
        parts.add(lit(literals.get(columns.size())));
        return concat(parts.toArray(Column[]::new));
    }

    public String source() {
        return source;
    }

    private static StructField field(StructType schema, String name) {
        for (StructField f : schema.fields()) {
            if (f.name().equalsIgnoreCase(name)) {
                return f;
            }
        }
        return null;
    }
}
