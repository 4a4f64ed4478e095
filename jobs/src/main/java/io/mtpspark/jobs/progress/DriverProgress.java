package io.mtpspark.jobs.progress;

import io.mtpspark.engine.progress.ProgressMeter;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkContext;

/**
 * The job's progress line on the driver's console (stderr): every {@code intervalSeconds} while the rows are
 * generated, rows done of the total, tokens/s, error rows and the ETA ({@link ProgressMeter}), and a last line when
 * {@link #close}d. Counts come from a {@link ProgressListener} registered for the run.
 */
public final class DriverProgress implements AutoCloseable {
    private final SparkContext sc;
    private final ProgressListener listener;
    private final ProgressMeter meter;
    private final ScheduledExecutorService timer;

    private DriverProgress(SparkContext sc, ProgressListener listener, ProgressMeter meter,
                           ScheduledExecutorService timer) {
        this.sc = sc;
        this.listener = listener;
        this.meter = meter;
        this.timer = timer;
    }

    /** Starts the line for {@code totalRows} rows counted by {@code progress}. */
    public static DriverProgress start(SparkContext sc, RowProgress progress, long totalRows, double intervalSeconds) {
        ProgressListener listener = new ProgressListener(progress);
        sc.addSparkListener(listener);
        ProgressMeter meter = ProgressMeter.toStderr("rows", totalRows, intervalSeconds);
        ScheduledExecutorService timer = null;
        if (intervalSeconds > 0) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "mtp-progress");
                t.setDaemon(true);
                return t;
            });
            long ms = Math.max(1, Math.round(intervalSeconds * 1000));
            timer.scheduleAtFixedRate(() -> {
                long[] c = listener.counts();
                meter.print(c[0], c[1], c[2]);
            }, ms, ms, TimeUnit.MILLISECONDS);
        }
        return new DriverProgress(sc, listener, meter, timer);
    }

    /** Stops the timer and prints the last line. */
    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
        sc.removeSparkListener(listener);
        long[] c = listener.counts();
        meter.finish(c[0], c[1], c[2]);
    }
}
