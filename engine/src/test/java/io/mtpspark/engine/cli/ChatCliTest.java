package io.mtpspark.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.engine.tokenizer.RealTokenizers;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tokenize} and {@code chat-template} on the real Llama 3 tokenizer: output formats, --jsonl, errors. */
class ChatCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream oldOut;
    private PrintStream oldErr;

    @TempDir
    Path dir;

    @BeforeEach
    void capture() {
        oldOut = System.out;
        oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(oldOut);
        System.setErr(oldErr);
    }

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void tokenizePrintsIds() throws Exception {
        Path tok = RealTokenizers.llama3().resolve("tokenizer.json");
        assertEquals(0, Main.execute("tokenize", "--tokenizer", tok.toString(), "--text", "Hello, world!"));
        assertEquals("9906 11 1917 0", stdout().trim());
        out.reset();
        assertEquals(0, Main.execute("tokenize", "--tokenizer", RealTokenizers.llama3().toString(), "--text",
                "Hello, world!", "--json"));
        assertEquals("{\"ids\":[9906,11,1917,0]}", stdout().trim());
        out.reset();
        Path lines = dir.resolve("in.jsonl");
        Files.writeString(lines, "\"Hello, world!\"\n{\"not\": \"a string\"}\n[broken\n\" Hello, world!\"\n");
        assertEquals(0, Main.execute("tokenize", "--tokenizer", tok.toString(), "--jsonl", lines.toString()));
        String[] o = stdout().trim().split("\n");
        assertEquals(4, o.length);
        assertEquals("{\"ids\":[9906,11,1917,0]}", o[0]);
        assertTrue(JSON.readTree(o[1]).get("error").asText().startsWith("line 2: expected a JSON string"), o[1]);
        assertTrue(JSON.readTree(o[2]).get("error").asText().startsWith("line 3: invalid JSON"), o[2]);
        assertEquals("{\"ids\":[22691,11,1917,0]}", o[3]);
    }

    @Test
    void chatTemplateRendersAndTokenizes() throws Exception {
        Path messages = dir.resolve("m.json");
        Files.writeString(messages, "[{\"role\": \"system\", \"content\": \"Be brief.\"}, "
                + "{\"role\": \"user\", \"content\": \"Hi\"}]");
        String tok = RealTokenizers.llama3().toString();
        assertEquals(0, Main.execute("chat-template", "--tokenizer", tok, "--messages", messages.toString()));
        String expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant"
                + "<|end_header_id|>\n\n";
        assertEquals(expected, stdout());
        out.reset();
        assertEquals(0, Main.execute("chat-template", "--tokenizer", tok, "--messages", messages.toString(),
                "--json"));
        JsonNode n = JSON.readTree(stdout());
        assertEquals(expected, n.get("text").asText());
        assertEquals(128000, n.get("ids").get(0).asInt(), "BOS once, written by the template");
        assertEquals(128006, n.get("ids").get(1).asInt());
        out.reset();
        Path lines = dir.resolve("c.jsonl");
        Files.writeString(lines, "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], "
                + "\"add_generation_prompt\": false}\n{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}\n"
                + "{\"messages\": [{\"role\": \"user\", \"content\": \"\"}]}\n");
        assertEquals(0, Main.execute("chat-template", "--tokenizer", tok, "--jsonl", lines.toString()));
        String[] o = stdout().trim().split("\n");
        assertEquals(3, o.length);
        assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", JSON.readTree(o[0]).get("text").asText(),
                "this config's template always opens the assistant turn");
        assertTrue(JSON.readTree(o[1]).get("error").asText().contains("unknown message role \"robot\""), o[1]);
        assertTrue(JSON.readTree(o[2]).get("error").asText().contains("empty content"), o[2]);
    }

    @Test
    void errorsNameTheInputAndExit2() throws Exception {
        assertEquals(2, Main.execute("tokenize", "--tokenizer", dir.resolve("nope.json").toString(), "--text", "x"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("nope.json"), err.toString());
        err.reset();
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "[{\"role\": ");
        assertEquals(2, Main.execute("chat-template", "--tokenizer", RealTokenizers.llama3().toString(),
                "--messages", bad.toString()));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("bad.json: invalid JSON"), err.toString());
        err.reset();
        Path gemma = RealTokenizers.chatTemplates().resolve("google-gemma-2-2b-it.jinja");
        Files.writeString(bad, "[{\"role\": \"system\", \"content\": \"s\"}, {\"role\": \"user\", \"content\": \"u\"}]");
        assertEquals(2, Main.execute("chat-template", "--tokenizer", RealTokenizers.llama3().toString(),
                "--template", gemma.toString(), "--messages", bad.toString()));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("System role not supported"), err.toString());
    }
}
