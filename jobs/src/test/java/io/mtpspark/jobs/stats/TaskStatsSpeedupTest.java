package io.mtpspark.jobs.stats;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** What a task's measured speedup means for each decoder, including {@code auto} when it never left autoregressive. */
class TaskStatsSpeedupTest {

    private static TaskStats task(String decoder, long[] histogram, Double mtpRate, Double arRate) {
        return new TaskStats("r", 0, 0, 0, "e", "h", "cpu", "cpu", decoder, 8, 10, 0, 50, 1280, 1280, histogram,
                1000, 2, mtpRate, arRate, null, null, null, null, null, null);
    }

    @Test
    void autoThatRanOnlyAutoregressiveStepsHasSpeedupOneNotItsTimingNoise() {
        // the demo's case: auto chose autoregressive for every step; the sample's two runs differ by noise alone
        assertEquals(1.0, task("auto", new long[9], 1180.0, 1000.0).measuredSpeedup());
        assertEquals(1.0, task("autoregressive", null, null, null).measuredSpeedup());
    }

    @Test
    void mtpPassesMakeTheSampleCount() {
        long[] h = new long[9];
        h[3] = 40;
        assertEquals(1.18, task("auto", h, 1180.0, 1000.0).measuredSpeedup(), 1e-12);
        assertEquals(0.5, task("quadratic", h, 500.0, 1000.0).measuredSpeedup(), 1e-12);
        assertNull(task("quadratic", h, null, null).measuredSpeedup(), "no sample: unmeasured");
    }
}
