package io.mtpspark.jobs;

import io.mtpspark.jobs.report.CostLine;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The console lines of the cost report. */
class ReportJobTest {
    @Test
    void anAutoregressiveRunSaysItHadNoMtpSavingsInsteadOfSavingZero() {
        CostLine ar = new CostLine("demo", "2026-12-03", null, "local-cpu", "cpu", 210, 0, 26_880, 26_880, 6.8, 6.8,
                0.000142, 0.000142, false);
        assertEquals("run demo: 210 rows, 26880 generated tokens, 6.8 task-s, $0.000142 ($0.005283 per 1M tokens), "
                + "decoded autoregressively: no MTP savings\n", ReportJob.line("run demo", ar));
    }

    @Test
    void anMtpRunShowsItsSpeedupAndSavingsEvenWhenTheyAreNegative() {
        CostLine mtp = new CostLine("demo", "2026-12-03", null, "local-cpu", "cpu", 210, 0, 26_880, 12_000, 8.0, 6.8,
                0.000167, 0.000142, false);
        assertEquals("run demo: 210 rows, 26880 generated tokens, 8.0 task-s, $0.000167 ($0.006213 per 1M tokens), "
                + "speedup 0.85x, autoregressive would cost $0.000142, saved -$0.000025\n",
                ReportJob.line("run demo", mtp));
    }
}
