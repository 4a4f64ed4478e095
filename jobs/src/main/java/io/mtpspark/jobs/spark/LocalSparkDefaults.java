package io.mtpspark.jobs.spark;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;

/**
 * Spark SQL settings for a job whose master is one local JVM ({@code local}, {@code local[N]}, {@code local[*]},
 * as {@code ./mtp} runs it), where the input is small and Spark's cluster defaults cost more than the work:
 * {@code spark.sql.shuffle.partitions} becomes the number of local task slots (Spark's 200 means 200 reduce tasks for
 * the input checks' aggregation over a few hundred rows) and adaptive execution goes off (it plans and submits each
 * shuffle stage as a job of its own, a few hundred milliseconds each in a young JVM, to tune partition counts that
 * are already right). The tests' shared session runs with these two settings. Spark SQL also evaluates expressions
 * interpreted instead of generating and compiling Java for each query ({@code spark.sql.codegen.wholeStage} off,
 * {@code spark.sql.codegen.factoryMode} {@code NO_CODEGEN}): in one local JVM the driver's and the tasks' Janino
 * compiles (~60 per demo run, ~4 s of CPU) and the JIT work on the generated classes take the cores and the JIT
 * compiler threads from the engine's forward, which then reaches its compiled speed seconds later, while the
 * interpreted projections cost microseconds per row against milliseconds of generation per row
 * (docs/BENCHMARKS.md, "Interpreted Spark SQL on local masters"). A setting given as a {@code -Dspark…} property
 * (or by spark-submit) wins; other masters (a cluster, {@code local-cluster}) keep Spark's defaults.
 */
public final class LocalSparkDefaults {
    static final String WHOLE_STAGE_CODEGEN = "spark.sql.codegen.wholeStage";
    /** Spark's switch between generated and interpreted projections, predicates and orderings. */
    static final String CODEGEN_FACTORY_MODE = "spark.sql.codegen.factoryMode";
    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|\\d+)(?:,\\d+)?])?");

    private LocalSparkDefaults() {
    }

    /**
     * The session builder of a job main: {@code master} when given (else what spark-submit configured), with the
     * local defaults when it is a local one.
     */
    public static SparkSession.Builder builder(String appName, Optional<String> master) {
        SparkSession.Builder builder = SparkSession.builder().appName(appName);
        master.ifPresent(m -> {
            builder.master(m);
            forMaster(m, Runtime.getRuntime().availableProcessors(), System::getProperty).forEach(builder::config);
        });
        return builder;
    }

    /**
     * The settings for {@code master} (empty for a non-local master), leaving out those {@code setAlready} (a
     * system property lookup) has a value for.
     */
    static Map<String, String> forMaster(String master, int cores, Function<String, String> setAlready) {
        Matcher m = LOCAL.matcher(master == null ? "" : master.trim());
        Map<String, String> out = new LinkedHashMap<>();
        if (!m.matches()) {
            return out;
        }
        int slots = m.group(1) == null ? 1 : m.group(1).equals("*") ? cores : Integer.parseInt(m.group(1));
        Map<String, String> wanted = Map.of(
                "spark.sql.shuffle.partitions", Integer.toString(Math.max(1, slots)),
                "spark.sql.adaptive.enabled", "false",
                WHOLE_STAGE_CODEGEN, "false",
                CODEGEN_FACTORY_MODE, "NO_CODEGEN");
        wanted.forEach((k, v) -> {
            if (setAlready.apply(k) == null) {
                out.put(k, v);
            }
        });
        return out;
    }
}
