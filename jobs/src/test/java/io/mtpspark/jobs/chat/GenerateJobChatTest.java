package io.mtpspark.jobs.chat;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.engine.chat.RandomChatModel;
import io.mtpspark.engine.tokenizer.RealTokenizers;
import io.mtpspark.jobs.generate.InputRejectedException;
import io.mtpspark.jobs.generate.RunResult;
import io.mtpspark.jobs.testing.Inputs;
import io.mtpspark.jobs.testing.JobRunner;
import io.mtpspark.jobs.testing.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job on chat input: a random-weight model with the real Llama 3 tokenizer and chat template (built here, never
 * committed), messages rows, --system, n samples with distinct reproducible seeds, stop strings, the chat-jsonl
 * export with dedupe read back, resume with a larger n, bad rows as error rows; prompt templates; and stop strings
 * giving identical greedy output from the autoregressive and the quadratic MTP decoder.
 */
class GenerateJobChatTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static Map<String, Object> row(String id, Object messages) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("id", id);
        r.put("messages", messages);
        return r;
    }

    private static Map<String, String> msg(String role, String content) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("role", role);
        if (content != null) {
            m.put("content", content);
        }
        return m;
    }

    @Test
    void chatRowsSamplesStopsExportAndResume() throws Exception {
        Path model = RandomChatModel.write(tmp.resolve("model"));
        io.mtpspark.infra.store.ModelManifest.write(model);
        List<Map<String, Object>> rows = new ArrayList<>();
        Map<String, Object> m1 = row("m1", List.of(msg("user", "Write a haiku about Spark.")));
        m1.put("n", 3);
        rows.add(m1);
        Map<String, Object> m2 = row("m2", List.of(msg("system", "Answer in French."), msg("user", "Hello")));
        m2.put("stop", List.of("e", "a"));
        rows.add(m2);
        rows.add(row("bad-role", List.of(msg("robot", "beep"))));
        rows.add(row("bad-empty", List.of(msg("user", ""))));
        rows.add(row("bad-shape", List.of(msg("user", null))));
        Path input = Inputs.writeJsonl(tmp.resolve("in/chat.jsonl"), rows);
        Path out = tmp.resolve("out");
        String[] args = {"--input", input.toString(), "--output", out.toString(), "--model", model.toString(),
                "--run-id", "chat", "--max-tokens", "12", "--temperature", "0.9", "--seed", "5", "--n", "2",
                "--system", "You are terse.", "--export", "chat-jsonl", "--dedupe", "--partitions", "2"};
        RunResult result = JobRunner.run(args);

        Dataset<Row> gens = SharedSpark.session().read().parquet(out.resolve("generations").toString())
                .where(col("run_id").equalTo("chat"));
        // m1: 3 samples (its own n), m2: 2 (--n), each bad row: 2 error samples
        assertEquals(3 + 2 + 3 * 2, gens.count());
        Map<String, String> errors = new HashMap<>();
        for (Row r : gens.where(col("finish_reason").equalTo("error")).collectAsList()) {
            errors.put(r.getString(r.fieldIndex("id")), r.getString(r.fieldIndex("error")));
        }
        assertEquals(3, errors.size());
        assertTrue(errors.get("bad-role").contains("unknown message role \"robot\""), errors.toString());
        assertTrue(errors.get("bad-empty").contains("empty content"), errors.toString());
        assertTrue(errors.get("bad-shape").contains("messages[0]"), errors.toString());

        List<String> samples = gens.where(col("id").equalTo("m1")).orderBy("sample_index")
                .collectAsList().stream().map(r -> r.getString(r.fieldIndex("completion"))).toList();
        assertEquals(3, samples.size());
        assertNotEquals(samples.get(0), samples.get(1), "distinct seeds give distinct samples");
        assertNotEquals(samples.get(1), samples.get(2));
        for (Row r : gens.where(col("id").equalTo("m2")).collectAsList()) {
            String c = r.getString(r.fieldIndex("completion"));
            assertTrue(!c.contains("e") && !c.contains("a"), "cut before the stop strings: " + c);
        }
        // the prompt is the Llama 3 template with --system put first: 128000 once, then the system header
        Row first = gens.where(col("id").equalTo("m1")).first();
        assertTrue(first.getInt(first.fieldIndex("prompt_tokens")) > 10);

        // export: one line per successful sample, the conversation then the assistant's completion
        String location = result.manifestLocation();
        JsonNode manifest = JSON.readTree((location.startsWith("file:") ? Path.of(java.net.URI.create(location))
                : Path.of(location)).toFile());
        Path exportDir = Path.of(manifest.get("outputs").get("export").asText());
        List<String> lines = new ArrayList<>();
        try (Stream<Path> files = Files.list(exportDir)) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("part-")).toList()) {
                lines.addAll(Files.readAllLines(f));
            }
        }
        long ok = gens.where(col("finish_reason").notEqual("error")).count();
        long distinct = gens.where(col("finish_reason").notEqual("error")).select("id", "completion").distinct()
                .count();
        assertEquals(distinct, lines.size());
        assertEquals(lines.size(), manifest.get("export").get("rows").asLong());
        assertEquals(ok - distinct, manifest.get("export").get("duplicates_dropped").asLong());
        for (String line : lines) {
            JsonNode messages = JSON.readTree(line).get("messages");
            assertEquals("system", messages.get(0).get("role").asText());
            JsonNode last = messages.get(messages.size() - 1);
            assertEquals("assistant", last.get("role").asText());
        }
        assertTrue(lines.stream().anyMatch(l -> l.contains("You are terse.") && l.contains("Write a haiku")));
        assertTrue(lines.stream().anyMatch(l -> l.contains("Answer in French.") && !l.contains("You are terse.")),
                "a conversation's own system message wins over --system");

        // reproducible: the same settings under another run id give the same samples
        String[] again = args.clone();
        again[7] = "chat2";
        JobRunner.run(again);
        List<String> samples2 = SharedSpark.session().read().parquet(out.resolve("generations").toString())
                .where(col("run_id").equalTo("chat2")).where(col("id").equalTo("m1")).orderBy("sample_index")
                .collectAsList().stream().map(r -> r.getString(r.fieldIndex("completion"))).toList();
        assertEquals(samples, samples2);

        // resume with --n 4: only the new samples of m2 and the bad rows run; m1 keeps its own n = 3 (error samples
        // are kept as they are here: resume would otherwise retry them, by default)
        List<String> resume = new ArrayList<>(List.of(args));
        resume.set(resume.indexOf("--n") + 1, "4");
        resume.add("--resume");
        resume.add("--no-retry-errors");
        RunResult resumed = JobRunner.run(resume.toArray(String[]::new));
        assertEquals(3 + 2 + 3 * 2, resumed.manifest().rows().skippedByResume());
        assertEquals(3 + 4 + 3 * 4, SharedSpark.session().read().parquet(out.resolve("generations").toString())
                .where(col("run_id").equalTo("chat")).count());
    }

    @Test
    void templateErrorsAreErrorRowsAndPromptTemplatesNameMissingColumns() throws Exception {
        Path model = RandomChatModel.write(tmp.resolve("model"));
        io.mtpspark.infra.store.ModelManifest.write(model);
        List<Map<String, Object>> rows = new ArrayList<>();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("id", "t1");
        r.put("topic", "Spark");
        r.put("style", "haiku");
        rows.add(r);
        Path input = Inputs.writeJsonl(tmp.resolve("in/cols.jsonl"), rows);
        Path gemma = RealTokenizers.chatTemplates().resolve("google-gemma-2-2b-it.jinja");
        JobRunner.run("--input", input.toString(), "--output", tmp.resolve("out").toString(), "--model",
                model.toString(), "--run-id", "tpl", "--max-tokens", "4", "--prompt-template",
                "Write a {style} about {topic}.", "--system", "be brief", "--chat-template", gemma.toString());
        Row g = SharedSpark.session().read().parquet(tmp.resolve("out/generations").toString()).first();
        assertEquals("error", g.getString(g.fieldIndex("finish_reason")));
        assertEquals("chat template raised an exception: System role not supported", g.getString(g.fieldIndex("error")));

        InputRejectedException e = assertThrows(InputRejectedException.class, () -> JobRunner.run("--input",
                input.toString(), "--output", tmp.resolve("out2").toString(), "--model", model.toString(),
                "--prompt-template", "Write a {style} about {subject}."));
        assertTrue(e.getMessage().contains("--prompt-template uses column subject that the input lacks"),
                e.getMessage());
    }

    @Test
    void stopStringsKeepGreedyMtpEqualToAutoregressive() throws Exception {
        List<Map<String, Object>> rows = Inputs.rows(6);
        String[][] stops = {{"."}, {","}, {" play", "Lily"}, {"."}, {" the", "!"}, {" and"}};
        for (int i = 0; i < rows.size(); i++) {
            rows.get(i).put("stop", List.of(stops[i]));
        }
        Path input = Inputs.writeJsonl(tmp.resolve("in/stops.jsonl"), rows);
        Path bin = SharedSpark.modelDir().resolve("stories260K.bin");
        Path adapter = SharedSpark.modelDir().resolve("mtp-adapter.safetensors");
        JobRunner.run("--input", input.toString(), "--output", tmp.resolve("out").toString(), "--model",
                bin.toString(), "--run-id", "ar", "--max-tokens", "60", "--speedup-sample", "0");
        JobRunner.run("--input", input.toString(), "--output", tmp.resolve("out").toString(), "--model",
                bin.toString(), "--run-id", "mtp", "--max-tokens", "60", "--decoder", "quadratic", "--adapter",
                adapter.toString(), "--k", "8", "--speedup-sample", "0");
        Dataset<Row> gens = SharedSpark.session().read().parquet(tmp.resolve("out/generations").toString());
        Map<String, String> ar = new HashMap<>();
        int stopped = 0;
        for (Row r : gens.where(col("run_id").equalTo("ar")).collectAsList()) {
            ar.put(r.getString(r.fieldIndex("id")), r.getString(r.fieldIndex("completion")) + "|"
                    + r.getString(r.fieldIndex("finish_reason")) + "|" + r.getInt(r.fieldIndex("completion_tokens")));
            stopped += r.getString(r.fieldIndex("finish_reason")).equals("stop") ? 1 : 0;
        }
        assertTrue(stopped >= 5, "most rows end at their stop string: " + ar);
        for (Row r : gens.where(col("run_id").equalTo("mtp")).collectAsList()) {
            String id = r.getString(r.fieldIndex("id"));
            assertEquals(ar.get(id), r.getString(r.fieldIndex("completion")) + "|"
                    + r.getString(r.fieldIndex("finish_reason")) + "|" + r.getInt(r.fieldIndex("completion_tokens")), id);
        }
    }
}
