package io.mtpspark.engine.tensor;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The pool's chunks: every index exactly once, and with an alignment every inner boundary on a multiple of it. */
class WorkerPoolTest {
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
