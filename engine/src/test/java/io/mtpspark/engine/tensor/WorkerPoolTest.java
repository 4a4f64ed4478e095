package io.mtpspark.engine.tensor;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The pool's chunks: every index exactly once, and with an alignment every inner boundary on a multiple of it. */
class WorkerPoolTest {
    /**
     * Back-to-back dispatches of few and many chunks, on more threads than cores so that workers get descheduled
     * mid-claim: when {@code run} returns every index has run exactly once and no chunk is still running. With a claim
     * counter reset per dispatch, a late worker ran a chunk of the next dispatch twice and {@code run} returned early.
     */
    @Test
    void noChunkOfADispatchRunsTwiceOrAfterItReturns() {
        int threads = 2 * Runtime.getRuntime().availableProcessors() + 2;
        WorkerPool pool = new WorkerPool(threads);
        java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
        try {
            long deadline = System.nanoTime() + 3_000_000_000L;
            for (int d = 0; System.nanoTime() < deadline; d++) {
                int n = d % 2 == 0 ? 3 : 4 * threads + 5;
                AtomicIntegerArray seen = new AtomicIntegerArray(n);
                pool.run(n, (from, to) -> {
                    inFlight.incrementAndGet();
                    for (int i = from; i < to; i++) {
                        seen.incrementAndGet(i);
                    }
                    inFlight.decrementAndGet();
                });
                assertEquals(0, inFlight.get(), "a chunk still running after run returned, dispatch " + d);
                for (int i = 0; i < n; i++) {
                    assertEquals(1, seen.get(i), "dispatch " + d + " (n " + n + "): index " + i);
                }
            }
        } finally {
            pool.close();
        }
    }

    @Test
    void chunksCoverTheRangeOnceWithAlignedBoundaries() {
        for (int threads : new int[]{2, 3}) {
            WorkerPool pool = new WorkerPool(threads);
            try {
                for (int align : new int[]{1, 4}) {
                    for (int n = 1; n <= 300; n++) {
                        AtomicIntegerArray seen = new AtomicIntegerArray(n);
                        AtomicIntegerArray unaligned = new AtomicIntegerArray(1);
                        int size = n;
                        int a = align;
                        pool.run(n, align, (from, to) -> {
                            if (from % a != 0 || (to != size && to % a != 0)) {
                                unaligned.incrementAndGet(0);
                            }
                            for (int i = from; i < to; i++) {
                                seen.incrementAndGet(i);
                            }
                        });
                        for (int i = 0; i < n; i++) {
                            assertEquals(1, seen.get(i), "threads " + threads + " align " + align + " n " + n
                                    + ": index " + i);
                        }
                        assertEquals(0, unaligned.get(0), "threads " + threads + " align " + align + " n " + n);
                    }
                }
            } finally {
                pool.close();
            }
        }
    }
}
