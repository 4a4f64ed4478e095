package io.mtpspark.jobs.generate;

import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tensor.DelegatingBackend;
import io.mtpspark.engine.tensor.ScalarBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Device backends are opened once per executor and GPU and lent to tasks; CPU backends belong to their task. */
class TaskBackendsTest {

    @AfterEach
    void forget() {
        TaskBackends.closeAll();
    }

    /** Stands in for the CUDA backend: computes on the CPU, says it holds device state, counts opens and closes. */
    private static final class FakeDevice extends DelegatingBackend {
        static final AtomicInteger OPENED = new AtomicInteger();
        static final AtomicInteger CLOSED = new AtomicInteger();

        FakeDevice() {
            super(new ScalarBackend());
            OPENED.incrementAndGet();
        }

        @Override
        public boolean holdsDeviceState() {
            return true;
        }

        @Override
        public void close() {
            CLOSED.incrementAndGet();
        }
    }

    @Test
    void aDeviceBackendIsOpenedOncePerGpuAndSurvivesTheTasksThatBorrowIt() {
        int opened = FakeDevice.OPENED.get();
        int closed = FakeDevice.CLOSED.get();
        Backend first = TaskBackends.forTask("cuda", 0, 2, t -> new FakeDevice());
        first.close(); // the task ends
        Backend second = TaskBackends.forTask("cuda", 0, 2, t -> new FakeDevice());
        Backend otherGpu = TaskBackends.forTask("cuda", 1, 2, t -> new FakeDevice());
        assertEquals(opened + 2, FakeDevice.OPENED.get(), "one per GPU, not one per task");
        assertEquals(closed, FakeDevice.CLOSED.get(), "a task's close() leaves the kept backend open");
        float[] out = new float[2];
        second.matmul(out, new float[]{1, 2}, 1, new float[]{3, 4, 5, 6}, 2, 2);
        assertEquals(11f, out[0]);
        assertEquals(17f, out[1]);
        assertTrue(second.holdsDeviceState() && otherGpu.holdsDeviceState());
        TaskBackends.closeAll();
        assertEquals(closed + 2, FakeDevice.CLOSED.get());
    }

    @Test
    void aCpuBackendBelongsToItsTask() {
        Backend a = TaskBackends.forTask("cpu", 0, 1, CpuBackend::new);
        Backend b = TaskBackends.forTask("cpu", 0, 1, CpuBackend::new);
        assertNotSame(a, b);
        assertFalse(a.holdsDeviceState());
        a.close();
        b.close();
    }
}
