package io.mtpspark.jobs.progress;

import java.util.HashMap;
import java.util.Map;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import scala.Tuple4;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Driver side of {@link RowProgress}: the counts of finished tasks (from their task-end events) plus the latest
 * counts of running tasks (from executor heartbeats). A task that fails drops out (its retry counts its rows again),
 * so the sum is what the run has produced so far.
 */
public final class ProgressListener extends SparkListener {
    private final long[] ids;
    private final long[] finished = new long[3];
    private final Map<Long, long[]> running = new HashMap<>();

    public ProgressListener(RowProgress progress) {
        this.ids = progress.ids();
    }

    /** Rows, tokens and error rows so far. */
    public synchronized long[] counts() {
        long[] sum = finished.clone();
        for (long[] r : running.values()) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += r[i];
            }
        }
        return sum;
    }

    /** A running task's current value of accumulator {@code accumulatorId}. */
    synchronized void running(long taskId, long accumulatorId, long value) {
        int i = index(accumulatorId);
        if (i >= 0) {
            running.computeIfAbsent(taskId, t -> new long[3])[i] = value;
        }
    }

    /** A task ended; {@code finalValues} (accumulator id to the task's value) count only if it succeeded. */
    synchronized void ended(long taskId, boolean successful, Map<Long, Long> finalValues) {
        running.remove(taskId);
        if (successful) {
            finalValues.forEach((id, v) -> {
                int i = index(id);
                if (i >= 0) {
                    finished[i] += v;
                }
            });
        }
    }

    @Override
    public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
        for (Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> t
                : CollectionConverters.asJava(update.accumUpdates())) {
            long taskId = (Long) t._1();
            for (AccumulableInfo a : CollectionConverters.asJava(t._4())) {
                Long v = longValue(a.update());
                if (v != null) {
                    running(taskId, a.id(), v);
                }
            }
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        Map<Long, Long> values = new HashMap<>();
        for (AccumulableInfo a : CollectionConverters.asJava(end.taskInfo().accumulables())) {
            Long v = longValue(a.update());
            if (v != null) {
                values.put(a.id(), v);
            }
        }
        ended(end.taskInfo().taskId(), end.taskInfo().successful(), values);
    }

    private int index(long accumulatorId) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == accumulatorId) {
                return i;
            }
        }
        return -1;
    }

    private static Long longValue(scala.Option<Object> o) {
        return o.isDefined() && o.get() instanceof Long l ? l : null;
    }
}
