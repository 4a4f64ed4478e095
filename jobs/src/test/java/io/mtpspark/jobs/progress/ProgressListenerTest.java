package io.mtpspark.jobs.progress;

import io.mtpspark.jobs.testing.SharedSpark;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Running tasks count by their latest heartbeat, finished ones by their final values, failed ones not at all. */
class ProgressListenerTest {
    @Test
    void sumsFinishedAndRunningTasksAndDropsFailedOnes() {
        RowProgress progress = RowProgress.register(SharedSpark.session().sparkContext());
        long[] id = progress.ids();
        ProgressListener l = new ProgressListener(progress);
        l.running(1, id[0], 10);
        l.running(1, id[1], 200);
        l.running(2, id[0], 5);
        l.running(2, 999_999, 77); // someone else's accumulator
        assertArrayEquals(new long[]{15, 200, 0}, l.counts());
        l.running(1, id[0], 12); // a later heartbeat replaces the earlier one
        l.ended(2, false, Map.of(id[0], 6L)); // failed: its retry will count its rows
        assertArrayEquals(new long[]{12, 200, 0}, l.counts());
        l.ended(1, true, Map.of(id[0], 20L, id[1], 300L, id[2], 1L));
        l.running(3, id[0], 4);
        assertArrayEquals(new long[]{24, 300, 1}, l.counts());
    }
}
