package io.mtpspark.engine.progress;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Lines at the interval, not more often; rate, errors and ETA from the counts so far. */
class ProgressMeterTest {
    @Test
    void printsAtTheIntervalWithRateAndEta() {
        AtomicLong now = new AtomicLong(0);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ProgressMeter m = new ProgressMeter("rows", 1000, 10, new PrintStream(buf, true, StandardCharsets.UTF_8),
                now::get);
        now.set(4_000_000_000L);
        m.update(40, 400, 0); // before the interval: nothing
        now.set(10_000_000_000L);
        m.update(100, 2_500, 1);
        now.set(15_000_000_000L);
        m.update(150, 3_000, 1); // 5 s after the last line: nothing
        now.set(3_610_000_000_000L);
        m.update(999, 1_000_000, 2);
        m.finish(1000, 1_000_100, 2);
        assertEquals("""
                progress: 100/1,000 rows (10%) | 250 tokens/s | 1 error | 0m10s elapsed, ETA 1m30s
                progress: 999/1,000 rows (99%) | 277 tokens/s | 2 errors | 1h00m10s elapsed, ETA 0m04s
                done: 1,000/1,000 rows (100%) | 277 tokens/s | 2 errors | 1h00m10s in all
                """, buf.toString(StandardCharsets.UTF_8));
    }

    @Test
    void intervalZeroPrintsOnlyTheLastLine() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        AtomicLong now = new AtomicLong(0);
        ProgressMeter m = new ProgressMeter("prompts", 2, 0, new PrintStream(buf, true, StandardCharsets.UTF_8),
                now::get);
        now.set(60_000_000_000L);
        m.update(1, 10, 0);
        m.finish(2, 20, 0);
        assertEquals("done: 2/2 prompts (100%) | 0 tokens/s | 0 errors | 1m00s in all\n",
                buf.toString(StandardCharsets.UTF_8));
    }
}
