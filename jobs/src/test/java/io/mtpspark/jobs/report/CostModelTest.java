package io.mtpspark.jobs.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The cost arithmetic without Spark. */
class CostModelTest {
    private static final double EPS = 1e-12;
    private static final PriceTable PRICES = new PriceTable(1, "USD", "2026-01-01", "test", Map.of(
            "one", new PriceTable.InstancePrice(1.0, 1, "gpu", ""),
            "eight", new PriceTable.InstancePrice(16.0, 8, "gpu", "")));

    private static RunInfo run(String id, String type) {
        return RunInfo.resolve(id, "{\"started_at\":\"2026-03-04T05:06:07Z\"}", Optional.of(type), "one");
    }

    /** A domain that did {@code ms} of row time with a sample giving {@code speedup} (null: no sample). */
    private static DomainUsage usage(String run, String domain, double ms, Double speedup) {
        return speedup == null
                ? new DomainUsage(run, domain, 10, 1, 1000, 400, ms, 0, 0, 0, 0, 0)
                : new DomainUsage(run, domain, 10, 1, 1000, 400, ms, 1, 100, 1000, 100, 1000 * speedup);
    }

    @Test
    void speedupTwoAtOneDollarAnHourDoublesTheCounterfactual() {
        CostLine l = new CostModel(PRICES).byRunDomain(List.of(usage("r", "d", 5, 2.0)), Map.of("r", 3600.0),
                Map.of("r", run("r", "one"))).get(0);
        assertEquals(3600, l.computeSeconds(), EPS);
        assertEquals(1.0, l.costUsd(), EPS);
        assertEquals(2.0, l.arCostUsd(), EPS);
        assertEquals(1.0, l.savingsUsd(), EPS);
        assertEquals(2.0, l.measuredSpeedup(), EPS);
        assertEquals(1000.0, l.usdPerMillionTokens(), EPS);
        assertEquals(2000.0, l.arUsdPerMillionTokens(), EPS);
        assertEquals(0.1, l.errorRate(), EPS);
        assertEquals(2.5, l.tokensPerPass(), EPS);
        assertEquals("2026-03-04", l.day());
        assertFalse(l.speedupAssumed());
    }

    @Test
    void aTaskSlotCostsItsShareOfAMultiGpuInstance() {
        CostLine l = new CostModel(PRICES).byRunDomain(List.of(usage("r", "d", 5, 1.0)), Map.of("r", 7200.0),
                Map.of("r", run("r", "eight"))).get(0);
        assertEquals(4.0, l.costUsd(), EPS, "2 task-hours at $16/h ÷ 8 GPUs");
        assertEquals(2.0, l.usdPerTaskHour(), EPS);
    }

    @Test
    void anUnusableSampleCountsAsOneAndIsFlagged() {
        List<DomainUsage> usage = List.of(usage("r", "none", 1, null), usage("r", "zero-ar-time", 1, 0.0),
                new DomainUsage("r", "zero-sample-time", 1, 0, 10, 10, 1, 1, 100, 0, 100, 1000));
        List<CostLine> lines = new CostModel(PRICES).byRunDomain(usage, Map.of("r", 3.0 * 3600),
                Map.of("r", run("r", "one")));
        for (CostLine l : lines) {
            assertTrue(l.speedupAssumed(), l.domain());
            assertEquals(1.0, l.costUsd(), EPS, l.domain());
            assertEquals(l.costUsd(), l.arCostUsd(), EPS, l.domain());
            assertEquals(0.0, l.savingsUsd(), EPS, l.domain());
        }
    }

    @Test
    void anAutoregressiveRunHasSpeedupOneAndNoSavingsWithoutBeingFlagged() {
        DomainUsage ar = new DomainUsage("r", "d", 4, 0, 400, 400, 1000, 0, 0, 0, 0, 0, true);
        CostLine l = new CostModel(PRICES).byRunDomain(List.of(ar), Map.of("r", 3600.0),
                Map.of("r", run("r", "one"))).get(0);
        assertEquals(1.0, l.measuredSpeedup(), EPS);
        assertEquals(0.0, l.savingsUsd(), EPS);
        assertFalse(l.speedupAssumed());
    }

    @Test
    void aSpeedupBelowOneIsKeptAndShowsAsNegativeSavings() {
        CostLine l = new CostModel(PRICES).byRunDomain(List.of(usage("r", "d", 5, 0.5)), Map.of("r", 3600.0),
                Map.of("r", run("r", "one"))).get(0);
        assertEquals(-0.5, l.savingsUsd(), EPS);
        assertFalse(l.speedupAssumed());
    }

    @Test
    void runSecondsAreSharedByRowTimeAndRollUpsAddUp() {
        List<DomainUsage> usage = List.of(usage("r", "a", 3, 2.0), usage("r", "b", 1, null));
        List<CostLine> lines = new CostModel(PRICES).byRunDomain(usage, Map.of("r", 4 * 3600.0), Map.of("r", run("r", "one")));
        assertEquals(3.0, lines.get(0).costUsd(), EPS);
        assertEquals(1.0, lines.get(1).costUsd(), EPS);
        CostLine total = CostModel.rollup(lines, CostModel.Grouping.TOTAL).get(0);
        assertEquals(4.0, total.costUsd(), EPS);
        // the unmeasured domain b counts at the run's measured speedup (2x), not at 1x
        assertEquals(2.0, lines.get(1).arCostUsd(), EPS);
        assertEquals(8.0, total.arCostUsd(), EPS);
        assertEquals(2.0, total.measuredSpeedup(), EPS);
        assertTrue(total.speedupAssumed(), "part of it had no sample");
        assertNull(total.runId());
        assertEquals(20, total.rows());
        assertEquals(0.1, total.errorRate(), EPS);
    }

    @Test
    void passDistributionCountsAcceptedPlusOneAndLeavesAutoregressivePassesOut() {
        TaskUsage mtp = new TaskUsage("r", 0, 0, "e", "h", "cpu", 2, 1, 0, 10, 5, new long[] {1, 2, 2}, 1, 2.0);
        TaskUsage ar = new TaskUsage("r", 1, 0, "e", "h", "cpu", 0, 1, 0, 7, 7, new long[] {0}, 1, null);
        assertEquals(List.of(new PassBucket(1, 1), new PassBucket(2, 2), new PassBucket(3, 2)),
                CostModel.passDistribution(List.of(mtp, ar)));
    }

    @Test
    void unknownInstanceTypesAreRefusedWithTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PRICES.priceOf("x"));
        assertTrue(e.getMessage().contains("eight, one"), e.getMessage());
    }
}
