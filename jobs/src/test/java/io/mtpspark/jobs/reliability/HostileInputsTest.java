package io.mtpspark.jobs.reliability;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.session.DecoderFactory;
import io.mtpspark.engine.session.ModelBundle;
import io.mtpspark.engine.session.TextGenerator;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.jobs.generate.InputRejectedException;
import io.mtpspark.jobs.testing.JobRunner;
import io.mtpspark.jobs.testing.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 6: a generated corpus of hostile rows (one Parquet input, ~230 rows) and hostile files (each its
 * own input). Every bad row becomes an error row naming the field, every odd but legal row gets its result, good
 * rows next to them get exactly the completion they get alone; every bad file is refused at start with
 * {@link InputRejectedException} naming the file and the problem, and nothing is written. The printed tallies go
 * into docs/RELIABILITY.md.
 */
class HostileInputsTest {
    private static final String MODEL = SharedSpark.modelDir().resolve("stories260K.bin").toString();
    private static final StructType SCHEMA = new StructType().add("id", DataTypes.StringType)
            .add("prompt", DataTypes.BinaryType).add("max_tokens", DataTypes.LongType)
            .add("temperature", DataTypes.DoubleType).add("seed", DataTypes.DoubleType)
            .add("domain", DataTypes.StringType);

    @TempDir
    Path tmp;

    /** One hostile row and what must come of it: an error containing {@code error}, or (null) any result. */
    private record Case(Row row, String error) {
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Row row(String id, byte[] prompt, Long maxTokens, Double temperature, Double seed) {
        return RowFactory.create(id, prompt, maxTokens, temperature, seed, "hostile");
    }

    private static List<Case> corpus() {
        List<Case> cases = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(2026);
        byte[][] invalid = {{(byte) 0xff}, {(byte) 0xfe, (byte) 0xff}, {(byte) 0xc0, (byte) 0x80},
                {(byte) 0x80}, {(byte) 0xe2, (byte) 0x82}, {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
                {(byte) 0xf8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0xc3, (byte) 0x28}};
        for (int i = 0; i < 64; i++) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.writeBytes(utf8("Once upon a "));
            b.writeBytes(invalid[i % invalid.length]);
            if (i % 3 == 0) {
                b.writeBytes(utf8(" time"));
            }
            cases.add(new Case(row("utf8-" + i, b.toByteArray(), null, null, null), "not valid UTF-8"));
        }
        for (int i = 0; i < 24; i++) { // NUL and control bytes are valid UTF-8: a result, not a crash
            byte[] p = utf8("Tom had a " + (char) (i < 20 ? i : 0x7f) + " ball" + (char) rng.nextInt(32));
            cases.add(new Case(row("ctrl-" + i, p, null, null, null), null));
        }
        for (String blank : List.of("", " ", "\t", "\n\n", "\r\n", " \t \n", "\u2028", "   ", "\u000b", "\f")) {
            cases.add(new Case(row("blank-" + cases.size(), utf8(blank), null, null, null),
                    blank.isEmpty() ? "prompt is empty" : "prompt is blank (whitespace only)"));
        }
        for (int i = 0; i < 6; i++) {
            cases.add(new Case(row("null-" + i, null, null, null, null), "prompt is null"));
        }
        byte[] tenMb = new byte[10 << 20];
        Arrays.fill(tenMb, (byte) 'a');
        cases.add(new Case(row("10mb", tenMb, null, null, null), "over the limit"));
        byte[] threeMb = utf8("the cat ".repeat(3 << 17));
        cases.add(new Case(row("3mb", threeMb, null, null, null), "over the limit"));
        // Just past the 512-position context (tokenising long prompts is the slow part of this test, so only 3)
        for (int i = 0; i < 2; i++) {
            cases.add(new Case(row("ctx-" + i, utf8("the cat sat on the mat ".repeat(110 + 20 * i)), null, null, null),
                    "does not fit the context"));
        }
        cases.add(new Case(row("nested", utf8("[".repeat(600) + "]".repeat(600)), null, null, null),
                "does not fit the context"));
        for (long bad : new long[]{0, -1, -2, Integer.MIN_VALUE, -1000, Long.MIN_VALUE, -3, -4, -5, -6, -7, -8, -9,
                -10, -100, -65536}) {
            cases.add(new Case(row("max-" + bad, utf8("Once"), bad, null, null), "max_tokens"));
        }
        for (long huge : new long[]{1L << 31, 1L << 40, Long.MAX_VALUE, 3_000_000_000L, 1_000_000_000_000L}) {
            cases.add(new Case(row("max-" + huge, utf8("Once"), huge, null, null), "max_tokens must be an integer"));
        }
        // Legal but absurd budgets: generation ends at the context, and nothing allocates 2e9 slots.
        for (long big : new long[]{Integer.MAX_VALUE, 2_000_000_000L, 1 << 30}) {
            cases.add(new Case(row("max-big-" + big, utf8("Once"), big, null, null), null));
        }
        double[] badTemps = {Double.NaN, -1, -1e-9, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, -1e308};
        for (int i = 0; i < 30; i++) {
            cases.add(new Case(row("temp-" + i, utf8("The little cat"), 3L, badTemps[i % badTemps.length], null),
                    "temperature must be a finite number >= 0"));
        }
        double[] badSeeds = {1.5, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1e300, -2.5, 0.1,
                9.3e18};
        for (int i = 0; i < 40; i++) {
            cases.add(new Case(row("seed-" + i, utf8("The little cat"), 3L, 0.7, badSeeds[i % badSeeds.length]),
                    "seed must be an integer"));
        }
        for (int i = 0; i < 10; i++) { // odd ids are still ids
            String id = i == 0 ? "x".repeat(10_000) : i == 1 ? "\u0000id" : i == 2 ? "../../etc/passwd" : i == 3
                    ? "id with\nnewline" : "\uD83D\uDE00-" + i;
            cases.add(new Case(row(id, utf8("One day"), 2L, null, null), null));
        }
        return cases;
    }

    private static final String[] GOOD = {"Once upon a time", "Lily wanted to", "The little dog", "Sam liked to sing"};

    @Test
    void everyHostileRowGetsOneNamedResultAndGoodRowsAreUntouched() {
        SparkSession spark = SharedSpark.session();
        List<Case> cases = corpus();
        List<Row> rows = new ArrayList<>();
        cases.forEach(c -> rows.add(c.row()));
        for (int i = 0; i < GOOD.length; i++) {
            rows.add(RowFactory.create("good-" + i, utf8(GOOD[i]), 5L, null, null, "good"));
        }
        Path input = tmp.resolve("hostile.parquet");
        spark.createDataFrame(rows, SCHEMA).coalesce(1).write().parquet(input.toString());
        Path out = tmp.resolve("out");

        JobRunner.run("--input", input.toString(), "--output", out.toString(), "--model", MODEL, "--run-id", "hostile",
                "--max-tokens", "3", "--partitions", "2", "--batch-size", "4", "--speedup-sample", "0");

        Map<String, Row> byId = new HashMap<>();
        List<Row> written = spark.read().parquet(out.resolve("generations").toString())
                .where(col("run_id").equalTo("hostile")).collectAsList();
        for (Row r : written) {
            byId.put(r.getString(r.fieldIndex("id")), r);
        }
        assertEquals(rows.size(), written.size(), "one row per input row");
        assertEquals(rows.size(), byId.size(), "no id twice");
        int named = 0;
        int mustFail = 0;
        for (Case c : cases) {
            Row r = byId.get(c.row().getString(0));
            String reason = r.getString(r.fieldIndex("finish_reason"));
            if (c.error() != null) {
                mustFail++;
                assertEquals("error", reason, c.row().getString(0).substring(0, Math.min(40, c.row().getString(0).length())));
                String error = r.getString(r.fieldIndex("error"));
                assertTrue(error.contains(c.error()), c.row().getString(0) + ": " + error);
                assertEquals(1, error.lines().count(), "one line: " + error);
                named++;
            } else {
                assertTrue(reason.equals("length") || reason.equals("stop"), r.toString());
            }
        }
        ModelBundle bundle = ModelBundle.load(Path.of(MODEL), null);
        Decoder alone = DecoderFactory.create("autoregressive", bundle.model(), new CpuBackend(1), null, 0, 0);
        for (int i = 0; i < GOOD.length; i++) {
            Row r = byId.get("good-" + i);
            assertEquals(new TextGenerator(bundle, alone).generate(GOOD[i], 5, SamplingOptions.GREEDY).text(),
                    r.getString(r.fieldIndex("completion")), "a good row next to hostile ones is unaffected");
        }
        System.out.printf("[reliability] hostile rows: %d tried, %d must fail, %d named errors, %d results, 0 crashes%n",
                cases.size(), mustFail, named, cases.size() - mustFail);
        assertTrue(cases.size() >= 200, "corpus size " + cases.size());
    }

    @Test
    void everyHostileFileIsRefusedAtStartNamingTheFileAndTheProblem() throws Exception {
        SparkSession spark = SharedSpark.session();
        Map<String, Path> files = new LinkedHashMap<>();
        Map<String, String> expected = new LinkedHashMap<>();
        String good = "{\"id\":\"a\",\"prompt\":\"Once\"}\n";
        jsonl(files, expected, "invalid-utf8", bytes(good, "{\"id\":\"b\",\"prompt\":\"x\u0000", new byte[]{(byte) 0xff,
                (byte) 0xfe}, "\"}\n"), "not valid JSON objects in UTF-8");
        jsonl(files, expected, "truncated-line", bytes(good, "{\"id\":\"b\",\"pro\n"), "not valid JSON objects");
        jsonl(files, expected, "array-line", bytes(good, "[1,2,3]\n"), "not valid JSON objects");
        jsonl(files, expected, "deep-nesting", bytes(good, "{\"id\":\"b\",\"prompt\":" + "[".repeat(3000)
                + "]".repeat(3000) + "}\n"), "not valid JSON objects");
        jsonl(files, expected, "nul-outside-string", bytes(good, "{\"id\":\"b\",\u0000\"prompt\":\"x\"}\n"),
                "not valid JSON objects");
        jsonl(files, expected, "empty", bytes(""), "it is empty");
        jsonl(files, expected, "whitespace-only", bytes("\n\n   \n"), "it is empty");
        jsonl(files, expected, "numeric-ids", bytes("{\"id\":1,\"prompt\":\"a\"}\n{\"id\":2,\"prompt\":\"b\"}\n"),
                "column id must be a string, got bigint");
        jsonl(files, expected, "prompt-object", bytes("{\"id\":\"a\",\"prompt\":{\"text\":\"a\"}}\n"),
                "column prompt must be a string");
        jsonl(files, expected, "max-tokens-text", bytes("{\"id\":\"a\",\"prompt\":\"a\",\"max_tokens\":\"ten\"}\n"),
                "column max_tokens must be a number, got string");
        jsonl(files, expected, "temperature-bool", bytes("{\"id\":\"a\",\"prompt\":\"a\",\"temperature\":true}\n"),
                "column temperature must be a number, got boolean");
        jsonl(files, expected, "seed-array", bytes("{\"id\":\"a\",\"prompt\":\"a\",\"seed\":[1]}\n"),
                "column seed must be a number");
        jsonl(files, expected, "no-id", bytes("{\"key\":\"a\",\"prompt\":\"a\"}\n"), "missing required column id");
        jsonl(files, expected, "null-id", bytes(good, "{\"id\":null,\"prompt\":\"a\"}\n"), "1 row(s) have a null id");
        jsonl(files, expected, "duplicate-ids", bytes(good, good), "duplicate ids: \"a\" (x2)");

        Path parquetGood = tmp.resolve("good.parquet");
        spark.createDataFrame(List.of(RowFactory.create("a", "Once")), new StructType().add("id", DataTypes.StringType)
                .add("prompt", DataTypes.StringType)).coalesce(1).write().parquet(parquetGood.toString());
        Path part = Files.list(parquetGood).filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow();
        byte[] partBytes = Files.readAllBytes(part);
        Path truncated = Files.createDirectories(tmp.resolve("truncated.parquet"));
        Files.write(truncated.resolve("part-0.parquet"), Arrays.copyOf(partBytes, partBytes.length / 2));
        files.put("truncated-parquet", truncated);
        expected.put("truncated-parquet", "cannot read it");
        Path garbage = Files.createDirectories(tmp.resolve("garbage.parquet"));
        byte[] noise = new byte[4096];
        new SplittableRandom(1).nextBytes(noise);
        Files.write(garbage.resolve("part-0.parquet"), noise);
        files.put("not-parquet", garbage);
        expected.put("not-parquet", "cannot read it");
        Path mixed = Files.createDirectories(tmp.resolve("mixed.parquet"));
        Files.write(mixed.resolve("part-0.parquet"), partBytes);
        Path other = tmp.resolve("other.parquet");
        spark.createDataFrame(List.of(RowFactory.create(7L, 3.5)), new StructType().add("id", DataTypes.LongType)
                .add("prompt", DataTypes.DoubleType)).coalesce(1).write().parquet(other.toString());
        try (Stream<Path> s = Files.list(other)) {
            Files.copy(s.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow(),
                    mixed.resolve("part-1.parquet"));
        }
        files.put("different-schema", mixed);
        expected.put("different-schema", "cannot read it");
        Path empty = tmp.resolve("empty.parquet");
        spark.createDataFrame(List.of(), new StructType().add("id", DataTypes.StringType)
                .add("prompt", DataTypes.StringType)).write().parquet(empty.toString());
        files.put("no-rows", empty);
        expected.put("no-rows", "it has no rows");
        files.put("missing", tmp.resolve("nowhere.parquet"));
        expected.put("missing", "cannot read it");

        int named = 0;
        for (Map.Entry<String, Path> f : files.entrySet()) {
            Path out = tmp.resolve("out-" + f.getKey());
            try {
                JobRunner.run("--input", f.getValue().toString(), "--output", out.toString(), "--model", MODEL,
                        "--max-tokens", "2");
                fail(f.getKey() + ": accepted");
            } catch (InputRejectedException e) {
                assertTrue(e.getMessage().contains(f.getValue().toString()), f.getKey() + " names the file: " + e.getMessage());
                assertTrue(e.getMessage().contains(expected.get(f.getKey())), f.getKey() + ": " + e.getMessage());
                assertEquals(1, e.getMessage().lines().count(), f.getKey() + " one line: " + e.getMessage());
                named++;
            }
            assertFalse(Files.exists(out.resolve("generations")), f.getKey() + ": nothing written");
        }
        System.out.printf("[reliability] hostile files: %d tried, %d refused at start naming file and problem, 0 crashes%n",
                files.size(), named);
    }

    private void jsonl(Map<String, Path> files, Map<String, String> expected, String name, byte[] content,
                       String problem) throws Exception {
        Path f = tmp.resolve(name + ".jsonl");
        Files.write(f, content);
        files.put(name, f);
        expected.put(name, problem);
    }

    private static byte[] bytes(Object... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (Object p : parts) {
            b.writeBytes(p instanceof byte[] a ? a : utf8((String) p));
        }
        return b.toByteArray();
    }
}
