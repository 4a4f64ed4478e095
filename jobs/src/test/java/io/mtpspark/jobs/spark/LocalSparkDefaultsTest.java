package io.mtpspark.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LocalSparkDefaultsTest {
    private static final Map<String, String> NONE = Map.of();

    @Test
    void localMastersGetOneShufflePartitionPerSlotAndNoAdaptiveExecution() {
        assertEquals(Map.of("spark.sql.shuffle.partitions", "2", "spark.sql.adaptive.enabled", "false"),
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
        Map<String, String> given = Map.of("spark.sql.adaptive.enabled", "true");
        assertEquals(Map.of("spark.sql.shuffle.partitions", "2"),
                LocalSparkDefaults.forMaster("local[2]", 4, given::get));
    }
}
