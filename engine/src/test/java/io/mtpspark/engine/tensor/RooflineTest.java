package io.mtpspark.engine.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RooflineTest {

    @Test
    void measuresPositiveLimitsWithTheBackendsThreads() {
        try (CpuBackend cpu = new CpuBackend(2)) {
            Roofline r = Roofline.measure(cpu, 2, 32L << 20);
            assertTrue(r.readBytesPerSecond() > 1e8 && Double.isFinite(r.readBytesPerSecond()), r.toString());
            assertTrue(r.fmaFlopsPerSecond() > 1e8 && Double.isFinite(r.fmaFlopsPerSecond()), r.toString());
            assertTrue(r.matmulFlopsPerSecond() > 1e8 && Double.isFinite(r.matmulFlopsPerSecond()), r.toString());
        }
    }

    /** The roofline time is the slower of reading the bytes and computing the FLOPs. */
    @Test
    void efficiencyIsTheBindingLimitOverTheMeasuredTime() {
        Roofline r = new Roofline(10e9, 200e9, 100e9, 1 << 20, 2);
        // memory-bound: 1 GB at 10 GB/s = 0.1 s (1 GFLOP at 100 GFLOP/s = 0.01 s); measured 0.2 s
        assertEquals(0.5, r.efficiency(1_000_000_000L, 1e9, 0.2, true), 1e-12);
        // compute-bound: 10 GFLOP at 100 GFLOP/s = 0.1 s, or at the 200 GFLOP/s FMA peak 0.05 s
        assertEquals(1.0, r.efficiency(1_000_000L, 10e9, 0.1, true), 1e-12);
        assertEquals(0.5, r.efficiency(1_000_000L, 10e9, 0.1, false), 1e-12);
    }
}
