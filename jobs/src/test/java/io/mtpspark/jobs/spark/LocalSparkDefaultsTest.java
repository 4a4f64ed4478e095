package io.mtpspark.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.jobs.testing.SharedSpark;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.spark.metrics.source.CodegenMetrics;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class LocalSparkDefaultsTest {
    private static final Map<String, String> NONE = Map.of();

    @Test
    void localMastersGetOneShufflePartitionPerSlotNoAdaptiveExecutionAndInterpretedExpressions() {
        assertEquals(Map.of("spark.sql.shuffle.partitions", "2", "spark.sql.adaptive.enabled", "false",
                        "spark.sql.codegen.wholeStage", "false", "spark.sql.codegen.factoryMode", "NO_CODEGEN"),
                LocalSparkDefaults.forMaster("local[*]", 2, NONE::get));
        assertEquals("6", LocalSparkDefaults.forMaster("local[6]", 2, NONE::get).get("spark.sql.shuffle.partitions"));
        assertEquals("3", LocalSparkDefaults.forMaster("local[3,2]", 8, NONE::get).get("spark.sql.shuffle.partitions"));
        assertEquals("1", LocalSparkDefaults.forMaster("local", 8, NONE::get).get("spark.sql.shuffle.partitions"));
    }

    @Test
    void clusterMastersKeepSparksDefaults() {
        for (String master : new String[] {"yarn", "spark://host:7077", "local-cluster[2,1,1024]", "k8s://x", ""}) {
            assertTrue(LocalSparkDefaults.forMaster(master, 2, NONE::get).isEmpty(), master);
        }
    }

    @Test
    void aSettingTheUserGaveWins() {
        Map<String, String> given = Map.of("spark.sql.adaptive.enabled", "true", "spark.sql.codegen.factoryMode",
                "FALLBACK");
        assertEquals(Map.of("spark.sql.shuffle.partitions", "2", "spark.sql.codegen.wholeStage", "false"),
                LocalSparkDefaults.forMaster("local[2]", 4, given::get));
    }

    /**
     * What the settings are for: with them Spark compiles almost no Java for a query that compiles a dozen classes
     * under Spark's defaults, and the answer is the same. A Spark version that stopped honouring them fails here.
     */
    @Test
    void theLocalSettingsRunAQueryWithoutCompilingCodeAndWithTheSameAnswer() {
        SparkSession defaults = SharedSpark.session().newSession();
        defaults.conf().set("spark.sql.codegen.wholeStage", "true");
        defaults.conf().set("spark.sql.codegen.factoryMode", "FALLBACK");
        SparkSession local = SharedSpark.session().newSession();
        LocalSparkDefaults.forMaster("local[2]", 2, NONE::get).forEach(local.conf()::set);

        long before = compilations();
        List<Row> generated = query(defaults);
        long byDefault = compilations() - before;
        before = compilations();
        List<Row> interpreted = query(local);
        long byLocal = compilations() - before;
        // a few classes Spark generates outside the two switches remain (13 compiles against 2 on Spark 4.2)
        assertTrue(byLocal * 3 < byDefault, "Janino compiles: " + byDefault + " with Spark's defaults, " + byLocal
                + " with the local settings");
        assertEquals(generated, interpreted);
        assertEquals(7, interpreted.size()); // the even residues 0..12
    }

    /**
     * A projection, filter, aggregation and sort whose generated code is new to this JVM (a literal no other query
     * has, so Spark's cache of compiled classes cannot answer it), with an answer that does not depend on the literal.
     */
    private static List<Row> query(SparkSession spark) {
        long nonce = ThreadLocalRandom.current().nextLong(1_000_000, Long.MAX_VALUE / 4);
        return spark.range(200).selectExpr("id", "((id * 7919 + " + nonce + ") - " + nonce + ") % 13 as m")
                .where("m % 2 = 0").groupBy("m").count().orderBy("m").collectAsList();
    }

    private static long compilations() {
        return CodegenMetrics.METRIC_COMPILATION_TIME().getCount();
    }
}
