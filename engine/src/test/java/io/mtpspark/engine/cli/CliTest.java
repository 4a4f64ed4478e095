package io.mtpspark.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.engine.TestModels;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI contract: JSON field names, and one clear line plus exit status 2 for each kind of bad input. */
class CliTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream oldOut;
    private PrintStream oldErr;

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

    private int run(String... args) {
        return Main.execute(args);
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void generateJsonHasTheContractFields() throws Exception {
        TestModels.Golden g = TestModels.greedyGoldens().get(0);
        int rc = run("generate", "--model", TestModels.storiesBin().toString(), "--prompt", g.prompt(),
                "--max-tokens", "20", "--json");
        assertEquals(0, rc, stderr());
        JsonNode n = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
        assertArrayEquals(g.promptIds(), TestModels.ints(n.get("prompt_ids")));
        assertArrayEquals(Arrays.copyOf(g.generatedIds(), 20), TestModels.ints(n.get("generated_ids")));
        assertTrue(g.runCStdout().startsWith(g.prompt() + n.get("text").asText()));
        assertEquals(20, n.get("forward_passes").asInt());
        assertTrue(n.get("tokens_per_second").asDouble() > 0);
    }

    @Test
    void emulatedBackendRunsTheDeviceEngineFromTheCli() throws Exception {
        String why = io.mtpspark.engine.device.EmulatorBuild.unavailableReason();
        org.junit.jupiter.api.Assumptions.assumeTrue(why == null, () -> "device emulator unavailable: " + why);
        TestModels.Golden g = TestModels.greedyGoldens().get(0);
        System.setProperty("mtp.device.weights", "f32"); // exact: the goldens hold token for token
        try {
            int rc = run("generate", "--model", TestModels.storiesBin().toString(), "--prompt", g.prompt(),
                    "--max-tokens", "20", "--json", "--backend", "emulated");
            assertEquals(0, rc, stderr());
        } finally {
            System.clearProperty("mtp.device.weights");
        }
        JsonNode n = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
        assertArrayEquals(Arrays.copyOf(g.generatedIds(), 20), TestModels.ints(n.get("generated_ids")));
        assertTrue(n.get("backend").asText().startsWith("emulated device"), n.get("backend").asText());
    }

    @Test
    void mtpDecodersThroughTheCliGiveTheSameIdsAndReportStats(@TempDir Path dir) throws Exception {
        Path adapter = dir.resolve("adapter.safetensors");
        io.mtpspark.engine.mtp.MtpAdapter.random(TestModels.stories(), 4, 4, 9).save(adapter, TestModels.stories());
        ObjectMapper json = new ObjectMapper();
        int[] expected = null;
        for (String decoder : new String[]{"autoregressive", "linear", "quadratic"}) {
            out.reset();
            int rc = run("generate", "--model", TestModels.storiesBin().toString(), "--prompt", "Once upon a time",
                    "--max-tokens", "30", "--json", "--decoder", decoder, "--adapter", adapter.toString(), "--k", "3");
            assertEquals(0, rc, stderr());
            JsonNode n = json.readTree(out.toString(StandardCharsets.UTF_8));
            assertEquals(decoder, n.get("decoder").asText());
            int[] ids = TestModels.ints(n.get("generated_ids"));
            if (expected == null) {
                expected = ids;
            } else {
                assertArrayEquals(expected, ids, decoder);
                assertEquals(3, n.get("k").asInt());
                assertEquals(4, n.get("accept_histogram").size());
                assertTrue(n.get("tokens_per_pass").asDouble() >= 1.0);
            }
        }
        assertEquals(2, run("generate", "--model", TestModels.storiesBin().toString(), "--prompt", "x",
                "--decoder", "quadratic"));
        assertTrue(stderr().contains("needs an MTP adapter"), stderr());
        assertEquals(2, run("generate", "--model", TestModels.storiesBin().toString(), "--prompt", "x",
                "--decoder", "quadratic", "--adapter", adapter.toString(), "--k", "5"));
        assertTrue(stderr().contains("--k 5 is outside 1..4"), stderr());
    }

    @Test
    void plainModePrintsTextAndStats() {
        int rc = run("generate", "--model", TestModels.storiesBin().toString(), "--prompt", "Once upon a time",
                "--max-tokens", "8");
        assertEquals(0, rc, stderr());
        String s = out.toString(StandardCharsets.UTF_8);
        assertTrue(s.startsWith("Once upon a time, there was a little girl"), s);
        assertTrue(s.contains("prompt tokens 5, generated tokens 8"), s);
    }

    @Test
    void missingModelFile() {
        assertEquals(2, run("generate", "--model", "/no/such/model.bin", "--prompt", "x"));
        assertTrue(stderr().contains("/no/such/model.bin: model not found"), stderr());
        assertFalse(stderr().contains("\tat "), "no stack trace without --verbose");
    }

    @Test
    void truncatedAndPaddedCheckpoints(@TempDir Path dir) throws Exception {
        byte[] bytes = Files.readAllBytes(TestModels.storiesBin());
        Path cut = dir.resolve("cut.bin");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 1000));
        Files.copy(TestModels.tok512(), dir.resolve("tok512.bin"));
        assertEquals(2, run("generate", "--model", cut.toString(), "--prompt", "x"));
        assertTrue(stderr().contains(cut + ": corrupt llama2.c checkpoint") && stderr().contains("truncated"),
                stderr());
        Path padded = dir.resolve("padded.bin");
        Files.write(padded, Arrays.copyOf(bytes, bytes.length + 4));
        assertEquals(2, run("generate", "--model", padded.toString(), "--prompt", "x"));
        assertTrue(stderr().contains("trailing bytes"), stderr());
        Path junk = dir.resolve("junk.bin");
        Files.write(junk, new byte[]{1, 2, 3});
        assertEquals(2, run("generate", "--model", junk.toString(), "--prompt", "x"));
        assertTrue(stderr().contains(junk + ": truncated llama2.c checkpoint"), stderr());
    }

    /** {@code convert --random-model} writes the random model {@code bench --random-model} builds, element for element. */
    @Test
    void convertWritesTheBenchRandomModel(@TempDir Path dir) throws Exception {
        String spec = "64,160,2,4,2,512";
        assertEquals(0, run("convert", "--random-model", spec, "--dtype", "BF16", "--out", dir.toString()), stderr());
        io.mtpspark.engine.model.LlamaModel written = io.mtpspark.engine.model.ModelLoader.load(dir);
        io.mtpspark.engine.model.LlamaModel built = BenchCommand.randomModel(spec,
                io.mtpspark.engine.safetensors.DType.BF16);
        assertEquals(built.config().dim(), written.config().dim());
        assertEquals(built.config().nLayers(), written.config().nLayers());
        assertEquals(io.mtpspark.engine.safetensors.DType.BF16, written.weights().layers()[1].wq().dtype());
        assertArrayEquals(built.weights().layers()[1].wq().toFloatArray(),
                written.weights().layers()[1].wq().toFloatArray()); // q rows permuted back on load
        assertArrayEquals(built.weights().layers()[1].wDown().toFloatArray(),
                written.weights().layers()[1].wDown().toFloatArray());

        assertEquals(2, run("convert", "--random-model", spec, "--model", TestModels.storiesBin().toString(),
                "--out", dir.resolve("both").toString()));
        assertTrue(stderr().contains("exactly one of --model and --random-model"), stderr());
    }

    @Test
    void unknownArchitectureInHfDirectory(@TempDir Path dir) throws Exception {
        assertEquals(0, run("convert", "--model", TestModels.storiesBin().toString(), "--out", dir.toString()));
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("LlamaForCausalLM", "FalconForCausalLM"));
        assertEquals(2, run("generate", "--model", dir.toString(), "--prompt", "x"));
        assertTrue(stderr().contains("config.json: unknown architecture FalconForCausalLM"), stderr());
    }

    @Test
    void tokenizerThatDoesNotFitTheModel(@TempDir Path dir) throws Exception {
        Path tok = dir.resolve("tok.bin");
        byte[] bytes = Files.readAllBytes(TestModels.tok512());
        // drop the last entry: "<len><bytes>" of the final token plus its score
        int cut = bytes.length;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int pos = 4;
        int last = 4;
        while (pos < bytes.length) {
            last = pos;
            int len = b.getInt(pos + 4);
            pos += 8 + len;
        }
        cut = last;
        Files.write(tok, Arrays.copyOf(bytes, cut));
        assertEquals(2, run("generate", "--model", TestModels.storiesBin().toString(), "--tokenizer", tok.toString(),
                "--prompt", "x"));
        assertTrue(stderr().contains("tokenizer/vocab size mismatch: the tokenizer has 511 entries but the model's "
                + "vocab_size is 512"), stderr());
    }

    @Test
    void promptLongerThanTheContext() {
        String longPrompt = "the cat sat on the mat. ".repeat(120);
        assertEquals(2, run("generate", "--model", TestModels.storiesBin().toString(), "--prompt", longPrompt));
        assertTrue(stderr().contains("does not fit the context of 512 positions"), stderr());
    }

    /** Issue 17: the CLI ran {@code --k -3} as k=8 and exited 0 on {@code --max-tokens 0} and an empty prompt. */
    @Test
    void badGenerationSettingsAreRefusedWithTheSharedMessages() {
        String model = TestModels.storiesBin().toString();
        assertEquals(2, run("generate", "--model", model, "--prompt", "x", "--k", "-3"));
        assertTrue(stderr().contains("--k must be >= 0 (0 = all of the adapter's), got -3"), stderr());
        assertEquals(2, run("generate", "--model", model, "--prompt", "x", "--max-tokens", "0"));
        assertTrue(stderr().contains("--max-tokens must be >= 1, got 0"), stderr());
        assertEquals(2, run("generate", "--model", model, "--prompt", ""));
        assertTrue(stderr().contains("--prompt is empty"), stderr());
    }

    @Test
    void badOptionValue() {
        assertEquals(2, run("generate", "--model", TestModels.storiesBin().toString(), "--prompt", "x",
                "--top-p", "2"));
        assertTrue(stderr().contains("top-p must be in (0, 1]"), stderr());
        assertEquals(2, run("generate", "--model", TestModels.storiesBin().toString(), "--prompt", "x",
                "--backend", "gpu9"));
        assertTrue(stderr().contains("--backend"), stderr());
        assertEquals(2, run("generate", "--model", TestModels.storiesBin().toString(), "--prompt", "x",
                "--weights-dtype", "int4"));
        assertTrue(stderr().contains("--weights-dtype") && stderr().contains("int4"), stderr());
    }

    @Test
    void weightsDTypeBf16Generates() {
        assertEquals(0, run("generate", "--model", TestModels.storiesBin().toString(), "--prompt", "Once upon a time",
                "--max-tokens", "8", "--weights-dtype", "bf16"));
    }

    @Test
    void verboseAddsTheStackTrace() {
        assertEquals(2, run("generate", "--model", "/no/such/model.bin", "--prompt", "x", "--verbose"));
        assertTrue(stderr().contains("\tat "), stderr());
    }

    @Test
    void benchPrintsAMedianAndAppendsHistory(@TempDir Path dir) throws Exception {
        Path hist = dir.resolve("perf.jsonl");
        assertEquals(0, run("bench", "--model", TestModels.storiesBin().toString(), "--steps", "12", "--warmup", "0",
                "--repeats", "1", "--min-round-seconds", "1.5", "--history", hist.toString()));
        JsonNode line = new ObjectMapper().readTree(Files.readAllLines(hist).get(0));
        JsonNode ar = line.at("/figures/decoders/autoregressive");
        double tokensPerSecond = ar.path("tokens_per_second_median").asDouble();
        assertTrue(tokensPerSecond > 0, line.toString());
        // a round decodes the prompts again until it has lasted --min-round-seconds (one round here: its own rate);
        // 12 positions keep one pass over the seven prompts far below 1.5 s even in a cold JVM
        int sets = ar.path("request_sets_per_round").asInt();
        assertTrue(sets >= 2, line.toString());
        double roundSeconds = sets * ar.path("generated_tokens_per_request_set").asDouble() / tokensPerSecond;
        assertTrue(roundSeconds >= 1.5, roundSeconds + " s: " + line);
        assertTrue(line.get("command").asText().startsWith("bench --model"));
        // this JVM's options, as the runtime reports them (surefire's fork passes --add-modules at least)
        assertEquals(String.join(" ", java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()),
                line.path("jvm_options").asText(null), line.toString());
    }
    @Test
    void severalPromptsBatchedGiveEachPromptItsOwnGeneration(@TempDir Path dir) throws Exception {
        String[] prompts = {"Once upon a time", "Lily wanted to", "The little dog"};
        Path file = dir.resolve("prompts.txt");
        Files.writeString(file, prompts[2] + "\n\n");
        ObjectMapper json = new ObjectMapper();
        String adapter = TestModels.storiesDir().resolve("mtp-adapter.safetensors").toString();
        assertEquals(0, run("generate", "--model", TestModels.storiesBin().toString(), "--prompt", prompts[0],
                "--prompt", prompts[1], "--prompts", file.toString(), "--batch-size", "2", "--json", "--max-tokens",
                "24", "--decoder", "quadratic", "--adapter", adapter, "--k", "8"), stderr());
        String[] lines = out.toString(StandardCharsets.UTF_8).strip().split("\n");
        assertEquals(3, lines.length, Arrays.toString(lines));
        for (int i = 0; i < prompts.length; i++) {
            JsonNode batched = json.readTree(lines[i]);
            assertEquals(2, batched.get("batch_size").asInt());
            out.reset();
            assertEquals(0, run("generate", "--model", TestModels.storiesBin().toString(), "--prompt", prompts[i],
                    "--json", "--max-tokens", "24"), stderr());
            JsonNode alone = json.readTree(out.toString(StandardCharsets.UTF_8));
            assertArrayEquals(TestModels.ints(alone.get("prompt_ids")), TestModels.ints(batched.get("prompt_ids")));
            assertArrayEquals(TestModels.ints(alone.get("generated_ids")),
                    TestModels.ints(batched.get("generated_ids")), prompts[i]);
            assertEquals(alone.get("text").asText(), batched.get("text").asText());
        }
        assertEquals(2, run("generate", "--model", TestModels.storiesBin().toString(), "--prompt", "x",
                "--batch-size", "0"));
        assertTrue(stderr().contains("--batch-size: expected 1..1024, got 0"), stderr());
        assertEquals(2, run("generate", "--model", TestModels.storiesBin().toString()));
        assertTrue(stderr().contains("no prompt: give --prompt TEXT or --prompts FILE"), stderr());
    }

    @Test
    void benchComparesBatchSizes() throws Exception {
        assertEquals(0, run("bench", "--model", TestModels.storiesBin().toString(), "--steps", "24", "--warmup", "0",
                "--repeats", "1", "--min-round-seconds", "0", "--batch-size", "1,4", "--json"), stderr());
        JsonNode n = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
        for (String b : new String[]{"1", "4"}) {
            assertTrue(n.at("/batches/" + b + "/decoders/autoregressive/tokens_per_second_median").asDouble() > 0,
                    n.toString());
        }
        assertEquals(8, n.at("/batches/4/sequences_per_round").asInt(), "two rounds of slots at batch 4");
        assertEquals(7, n.at("/batches/1/sequences_per_round").asInt(), "the seven built-in prompts");
    }

    /**
     * {@code auto}'s steps per configuration cover the measured rounds only: the warm-up round's steps (autoregressive
     * until the policy is calibrated) would otherwise be reported as the policy's choice. At batch 1 a step is one
     * forward pass, so the steps add up to the measured round's passes.
     */
    @Test
    void benchCountsAutoStepsOfTheMeasuredRoundsOnly() throws Exception {
        String adapter = TestModels.storiesDir().resolve("mtp-adapter.safetensors").toString();
        assertEquals(0, run("bench", "--model", TestModels.storiesBin().toString(), "--adapter", adapter, "--steps",
                "24", "--warmup", "1", "--repeats", "1", "--min-round-seconds", "0", "--decoders", "auto", "--json"),
                stderr());
        JsonNode auto = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8)).at("/decoders/auto");
        long steps = 0;
        for (JsonNode n : auto.path("steps_by_config")) {
            steps += n.asLong();
        }
        assertEquals(auto.path("forward_passes_per_request_set").asLong()
                * auto.path("request_sets_per_round").asLong(), steps, auto.toString());
    }

    /**
     * The oracle drafter proposes the true continuation: drafts are accepted (tokens/pass near k + 1, far above
     * the shipped adapter's), the output is still the model's (the verification decides), and a bad value is refused.
     */
    @Test
    void benchWithTheOracleDrafterAcceptsEveryDraft() throws Exception {
        String adapter = TestModels.storiesDir().resolve("mtp-adapter.safetensors").toString();
        assertEquals(0, run("bench", "--model", TestModels.storiesBin().toString(), "--adapter", adapter, "--steps",
                "48", "--warmup", "0", "--repeats", "1", "--min-round-seconds", "0", "--decoders", "quadratic:4,linear:2",
                "--drafter", "oracle", "--json"), stderr());
        JsonNode n = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
        assertEquals("oracle", n.get("drafter").asText());
        assertTrue(n.at("/decoders/quadratic:4/tokens_per_pass").asDouble() > 3.8, n.toString()); // shipped: 2.83
        assertTrue(n.at("/decoders/linear:2/tokens_per_pass").asDouble() > 2.3, n.toString()); // shipped: 1.96
        out.reset();
        assertEquals(2, run("bench", "--model", TestModels.storiesBin().toString(), "--adapter", adapter,
                "--drafter", "psychic", "--steps", "8", "--warmup", "0", "--repeats", "1"));
        assertTrue(stderr().contains("--drafter: expected adapter or oracle, got \"psychic\""), stderr());
    }

    @Test
    void trainRefusesTheGpuBackendInsteadOfIgnoringIt(@TempDir Path dir) {
        assertEquals(2, run("train", "--model", TestModels.storiesBin().toString(), "--out",
                dir.resolve("a.safetensors").toString(), "--self-distill", "x.txt", "--backend", "cuda"));
        assertTrue(stderr().contains("--backend cuda: train runs on the CPU"), stderr());
    }
}
