package io.mtpspark.jobs.progress;

import io.mtpspark.jobs.testing.Inputs;
import io.mtpspark.jobs.testing.JobRunner;
import io.mtpspark.jobs.testing.SharedSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The job prints progress lines on the driver's stderr while it runs and a last line with every row counted. */
class JobProgressTest {
    @TempDir
    Path tmp;

    @Test
    void theDriverPrintsProgressAndALastLineWithAllRowsAndErrors() {
        List<Map<String, Object>> rows = Inputs.rows(7);
        rows.add(Map.of("id", "blank", "prompt", "   "));
        Path input = Inputs.writeJsonl(tmp.resolve("in.jsonl"), rows);
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            JobRunner.run("--input", input.toString(), "--output", tmp.resolve("out").toString(), "--model",
                    SharedSpark.modelDir().resolve("stories260K.bin").toString(), "--run-id", "progress",
                    "--max-tokens", "16", "--partitions", "2", "--speedup-sample", "0", "--progress-every", "0.05");
        } finally {
            System.setErr(old);
        }
        List<String> lines = err.toString(StandardCharsets.UTF_8).lines()
                .filter(l -> l.startsWith("progress: ") || l.startsWith("done: ")).toList();
        assertTrue(lines.size() >= 2, "progress lines while running, then the last: " + lines);
        assertTrue(lines.get(0).matches("progress: \\d/8 rows \\(\\d+%\\) \\| [0-9,]+ tokens/s \\| \\d errors? \\| "
                + "\\d+m\\d\\ds elapsed.*"), lines.get(0));
        String last = lines.get(lines.size() - 1);
        assertTrue(last.startsWith("done: 8/8 rows (100%) | "), last);
        assertTrue(last.contains(" | 1 error | "), last);
        assertEquals(1, lines.stream().filter(l -> l.startsWith("done: ")).count(), lines.toString());
    }
}
