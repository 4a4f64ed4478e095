package io.mtpspark.jobs.reliability;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.jobs.generate.InputRejectedException;
import io.mtpspark.jobs.testing.JobRunner;
import io.mtpspark.jobs.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Defects a new user hit with malformed JSON lines and odd per-row values (issue 17), each reproduced first. */
class MalformedInputTest {
    private static final String MODEL = SharedSpark.modelDir().resolve("stories260K.bin").toString();

    @TempDir
    Path tmp;

    /** Was: Spark turned the line into an all-null record, the job failed after generating, _temporary left behind. */
    @Test
    void aJsonLineWithInvalidUtf8IsRefusedAtStartNamingTheLine() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.write("{\"id\":\"a\",\"prompt\":\"Once upon a time\"}\n".getBytes(StandardCharsets.UTF_8));
        bytes.write("{\"id\":\"b\",\"prompt\":\"bad ".getBytes(StandardCharsets.UTF_8));
        bytes.write(new byte[]{(byte) 0xff, (byte) 0xfe});
        bytes.write("\"}\n".getBytes(StandardCharsets.UTF_8));
        bytes.write("{\"id\":\"c\",\"prompt\":\"The little cat\"}\n".getBytes(StandardCharsets.UTF_8));
        Path input = tmp.resolve("in.jsonl");
        Files.write(input, bytes.toByteArray());
        Path out = tmp.resolve("out");

        InputRejectedException e = assertThrows(InputRejectedException.class, () -> JobRunner.run(
                "--input", input.toString(), "--output", out.toString(), "--model", MODEL, "--max-tokens", "4"));
        assertTrue(e.getMessage().contains("1 line(s) are not valid JSON objects in UTF-8"), e.getMessage());
        assertTrue(e.getMessage().contains("{\"id\":\"b\",\"prompt\":\"bad "), "names the line: " + e.getMessage());
        assertTrue(e.getMessage().contains("in.jsonl"), "names the file: " + e.getMessage());
        assertFalse(Files.exists(out.resolve("generations")), "nothing written, no _temporary left behind");
    }

    @Test
    void truncatedAndNonObjectLinesAreRefusedToo() throws Exception {
        Path input = tmp.resolve("trunc.jsonl");
        Files.writeString(input, "{\"id\":\"a\",\"prompt\":\"Once\"}\n{\"id\":\"b\",\"prom\n[1,2]\n");
        InputRejectedException e = assertThrows(InputRejectedException.class, () -> JobRunner.run(
                "--input", input.toString(), "--output", tmp.resolve("out").toString(), "--model", MODEL));
        assertTrue(e.getMessage().contains("2 line(s) are not valid JSON objects in UTF-8"), e.getMessage());
    }

    /** Was: a seed of 1.5 was silently truncated to 1; a max_tokens beyond int range failed the job (ANSI cast). */
    @Test
    void fractionalSeedsAndOutOfRangeNumbersBecomeErrorRowsNamingTheField() throws Exception {
        Path input = tmp.resolve("values.jsonl");
        Files.writeString(input, String.join("\n",
                "{\"id\":\"ok\",\"prompt\":\"Once upon a time\",\"seed\":3,\"max_tokens\":4}",
                "{\"id\":\"frac-seed\",\"prompt\":\"Once upon a time\",\"seed\":1.5}",
                "{\"id\":\"frac-max\",\"prompt\":\"Once upon a time\",\"max_tokens\":2.5}",
                "{\"id\":\"huge-max\",\"prompt\":\"Once upon a time\",\"max_tokens\":1e12}",
                "{\"id\":\"nan-temp\",\"prompt\":\"Once upon a time\",\"temperature\":NaN}",
                "{\"id\":\"neg-temp\",\"prompt\":\"Once upon a time\",\"temperature\":-1}",
                "{\"id\":\"huge-seed\",\"prompt\":\"Once upon a time\",\"seed\":1e300}") + "\n");
        Path out = tmp.resolve("out");
        JobRunner.run("--input", input.toString(), "--output", out.toString(), "--model", MODEL, "--run-id", "vals",
                "--max-tokens", "4", "--partitions", "2");
        Map<String, Row> byId = new HashMap<>();
        for (Row r : SharedSpark.session().read().parquet(out.resolve("generations").toString())
                .where(col("run_id").equalTo("vals")).collectAsList()) {
            byId.put(r.getString(r.fieldIndex("id")), r);
        }
        assertEquals(7, byId.size());
        assertEquals("length", byId.get("ok").getString(byId.get("ok").fieldIndex("finish_reason")));
        assertError(byId.get("frac-seed"), "seed must be an integer, got 1.5");
        assertError(byId.get("frac-max"), "max_tokens must be an integer in 1..2147483647, got 2.5");
        assertError(byId.get("huge-max"), "max_tokens must be an integer");
        assertError(byId.get("nan-temp"), "temperature must be a finite number >= 0, got NaN");
        assertError(byId.get("neg-temp"), "temperature must be a finite number >= 0, got -1");
        assertError(byId.get("huge-seed"), "seed must be an integer");
    }

    private static void assertError(Row r, String message) {
        assertEquals("error", r.getString(r.fieldIndex("finish_reason")), r.toString());
        assertTrue(r.getString(r.fieldIndex("error")).contains(message), r.getString(r.fieldIndex("error")));
    }
}
