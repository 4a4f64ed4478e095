package io.mtpspark.infra.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

/**
 * The proxy's decisions must repeat from run to run: keys that differ only in Spark's and Hadoop's per-run ids
 * (write UUIDs, job ids, attempt counters) map to one decision key, while different partitions stay apart.
 */
class FaultProxyKeyTest {
    private static String magic(String job, String stage, int partition, int attempt, String uuid) {
        return "out/generations/__magic_job-job_" + job + "_0000/job-job_" + job + "_0000/00/tasks/attempt_" + stage
                + "_0005_m_00000" + partition + "_" + attempt + "/__base/run_id%3Dfaults/part-0000" + partition + "-"
                + uuid + ".c000.snappy.parquet";
    }

    @Test
    void runSpecificIdsAreTakenOutAndPartitionsKept() {
        String a = magic("202612041305163242437780466744622", "202612041305165061444030202543634", 0, 8,
                "507a7231-1d76-449c-a8f1-923f04948389");
        String b = magic("202612041113323242437780466744999", "202612041113325061444030202540001", 0, 3,
                "3185db01-c4b3-47bd-8e82-155eb087aabe");
        String otherPartition = magic("202612041305163242437780466744622", "202612041305165061444030202543634", 1, 9,
                "507a7231-1d76-449c-a8f1-923f04948389");
        assertEquals(FaultProxy.stableKey(a), FaultProxy.stableKey(b));
        assertNotEquals(FaultProxy.stableKey(a), FaultProxy.stableKey(otherPartition));
        assertEquals("out/generations/__magic_job-job_<id>/job-job_<id>/00/tasks/attempt_<job>_m_000000/__base/"
                + "run_id%3Dfaults/part-00000-<uuid>.c000.snappy.parquet", FaultProxy.stableKey(a));
        assertEquals("models/stories260K/model.bin", FaultProxy.stableKey("models/stories260K/model.bin"));
    }
}
