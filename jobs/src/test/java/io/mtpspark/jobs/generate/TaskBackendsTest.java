package io.mtpspark.jobs.generate;

import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.tensor.CpuBackend;
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
    private static final class FakeDevice implements Backend {
        static final AtomicInteger OPENED = new AtomicInteger();
        static final AtomicInteger CLOSED = new AtomicInteger();
        private final ScalarBackend cpu = new ScalarBackend();

        FakeDevice() {
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

        @Override
        public String name() {
            return "fake-device";
        }

        @Override
        public void matmul(float[] out, float[] x, int rows, float[] w, int inDim, int outDim) {
            cpu.matmul(out, x, rows, w, inDim, outDim);
        }

        @Override
        public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
            return cpu.dot(a, aOff, b, bOff, n);
        }

        @Override
        public void axpy(float[] y, int yOff, float a, float[] x, int xOff, int n) {
            cpu.axpy(y, yOff, a, x, xOff, n);
        }

        @Override
        public void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] w, int n, float eps) {
            cpu.rmsnorm(out, outOff, x, xOff, w, n, eps);
        }

        @Override
        public float expShiftSum(float[] a, int off, int n, float shift) {
            return cpu.expShiftSum(a, off, n, shift);
        }

        @Override
        public void siluMul(float[] h, float[] g, int off, int n) {
            cpu.siluMul(h, g, off, n);
        }

        @Override
        public void parallelFor(int n, long workPerItem, RangeTask task) {
            cpu.parallelFor(n, workPerItem, task);
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
