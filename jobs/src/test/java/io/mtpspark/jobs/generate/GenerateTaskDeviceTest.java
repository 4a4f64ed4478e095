package io.mtpspark.jobs.generate;

import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The GPU Spark assigns to a task is the CUDA device the task opens, and what its records say it ran on. */
class GenerateTaskDeviceTest {

    @Test
    void assignedGpuAddressIsTheDeviceOrdinal() {
        Map<String, ResourceInformation> gpu2 = Map.of("gpu", new ResourceInformation("gpu", new String[]{"2"}));
        assertEquals(2, GenerateTask.gpuOrdinal(gpu2));
        assertEquals("gpu 2", GenerateTask.device(gpu2));
    }

    @Test
    void withoutGpuSchedulingTheTaskIsOnTheCpuAndDeviceZeroIsTheDefault() {
        assertEquals(0, GenerateTask.gpuOrdinal(Map.of()));
        assertEquals(0, GenerateTask.gpuOrdinal(null));
        assertEquals("cpu", GenerateTask.device(Map.of()));
        Map<String, ResourceInformation> none = Map.of("gpu", new ResourceInformation("gpu", new String[0]));
        assertEquals("cpu", GenerateTask.device(none));
    }

    @Test
    void anAddressThatIsNotAnOrdinalIsNamed() {
        Map<String, ResourceInformation> uuid = Map.of("gpu",
                new ResourceInformation("gpu", new String[]{"GPU-8f1c"}));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> GenerateTask.gpuOrdinal(uuid));
        assertTrue(e.getMessage().contains("\"GPU-8f1c\""), e.getMessage());
    }
}
