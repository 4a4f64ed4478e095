package io.mtpspark.engine.progress;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A progress line for long work, at a steady interval: items done of the total, generated tokens per second, the
 * error count, elapsed time and the ETA (remaining items at the rate so far). {@link #update} prints only when the
 * interval has passed since the last line, so a caller may call it for every finished item; {@link #print} prints
 * now (a caller with its own timer); {@link #finish} prints the last line. The CLI and the Spark job's driver both
 * print through it, so their lines read the same.
 */
public final class ProgressMeter {
    private final String unit;
    private final long total;
    private final long intervalNanos;
    private final PrintStream out;
    private final LongSupplier clock;
    private final long start;
    private long lastLine;

    /**
     * @param unit            what is counted, plural ("rows", "prompts")
     * @param total           how many there are
     * @param intervalSeconds seconds between lines; 0 or less: no lines until {@link #finish}
     * @param clock           nanosecond clock ({@link System#nanoTime} outside tests)
     */
    public ProgressMeter(String unit, long total, double intervalSeconds, PrintStream out, LongSupplier clock) {
        this.unit = unit;
        this.total = total;
        this.intervalNanos = intervalSeconds > 0 ? (long) (intervalSeconds * 1e9) : -1;
        this.out = out;
        this.clock = clock;
        this.start = clock.getAsLong();
        this.lastLine = start;
    }

    public static ProgressMeter toStderr(String unit, long total, double intervalSeconds) {
        return new ProgressMeter(unit, total, intervalSeconds, System.err, System::nanoTime);
    }

    /** Prints a line if the interval has passed since the last one. */
    public synchronized void update(long done, long tokens, long errors) {
        long now = clock.getAsLong();
        if (intervalNanos > 0 && now - lastLine >= intervalNanos) {
            emit(now, done, tokens, errors, false);
        }
    }

    /** Prints a line now (for a caller that keeps its own interval). */
    public synchronized void print(long done, long tokens, long errors) {
        emit(clock.getAsLong(), done, tokens, errors, false);
    }

    /** The last line, with the total time. */
    public synchronized void finish(long done, long tokens, long errors) {
        emit(clock.getAsLong(), done, tokens, errors, true);
    }

    private void emit(long now, long done, long tokens, long errors, boolean last) {
        lastLine = now;
        out.println(line(done, tokens, errors, (now - start) / 1e9, last));
        out.flush();
    }

    String line(long done, long tokens, long errors, double seconds, boolean last) {
        StringBuilder sb = new StringBuilder(last ? "done: " : "progress: ");
        sb.append(String.format(Locale.ROOT, "%,d/%,d %s", done, total, unit));
        if (total > 0) {
            sb.append(String.format(Locale.ROOT, " (%d%%)", done * 100 / total));
        }
        sb.append(String.format(Locale.ROOT, " | %,.0f tokens/s | %,d error%s | %s", seconds > 0 ? tokens / seconds : 0,
                errors, errors == 1 ? "" : "s", duration(seconds)));
        if (last) {
            return sb.append(" in all").toString();
        }
        sb.append(" elapsed");
        if (done > 0 && done < total) {
            sb.append(", ETA ").append(duration(seconds / done * (total - done)));
        }
        return sb.toString();
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
