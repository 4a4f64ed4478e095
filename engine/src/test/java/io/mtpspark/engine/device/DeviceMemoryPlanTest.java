package io.mtpspark.engine.device;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.tensor.ScalarBackend;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The memory plan refuses a load that does not fit, before uploading anything, with the numbers and the knobs. */
class DeviceMemoryPlanTest {

    @Test
    void refusesWithTheNumbersAndTheKnobsBeforeLoading() {
        String why = EmulatorBuild.unavailableReason();
        assumeTrue(why == null, () -> "device emulator unavailable: " + why);
        LlamaModel model = TestModels.stories();
        DeviceMemoryPlan plan = DeviceMemoryPlan.of(model.config(), ElementType.F32, 64, 512, 1, 64, 0);
        assertTrue(plan.kvBytes() > plan.weightBytes(), "64 slots of 576 rows outweigh stories260K: " + plan);
        // a device that holds the weights but not 64 sequences' KV caches
        long total = plan.weightBytes() + plan.workspaceBytes() + plan.activationBytes() + plan.kvBytes() / 2;
        try (DeviceBackend backend = new DeviceBackend(EmulatedDevice.open(total), ElementType.F32,
                new ScalarBackend())) {
            EngineException e = assertThrows(EngineException.class, () -> backend.forward(model, 64, 512, 1, 64, 0));
            String m = e.getMessage();
            assertTrue(m.contains("not enough device memory") && m.contains("KV cache " + (plan.kvBytes() + (1 << 20)
                    - 1) / (1 << 20) + " MiB") && m.contains("--batch-size") && m.contains("--context"), m);
            assertEquals(total, backend.device().freeBytes(), "nothing was uploaded before the refusal");
            backend.forward(model, 64, 512, 1, 8, 0).close(); // 8 sequences fit
        }
    }
}
