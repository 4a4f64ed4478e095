package io.mtpspark.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.engine.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Output a person reads: bench's table (JSON on request), convert's tokenizer notice, a blank prompt named so. */
class ReadableOutputTest {
    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();
    private final ByteArrayOutputStream out = console.out;
    private final ByteArrayOutputStream err = console.err;

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void benchPrintsATableByDefaultAndJsonOnRequest(@TempDir Path dir) throws Exception {
        Path prompts = Files.writeString(dir.resolve("p.txt"), "Once upon a time\nThe little dog\n");
        String[] args = {"bench", "--model", TestModels.storiesBin().toString(), "--steps", "24", "--warmup", "0",
                "--repeats", "2", "--min-round-seconds", "0", "--decoders", "autoregressive,quadratic", "--k", "2", "--prompts",
                prompts.toString()};
        assertEquals(0, Main.execute(args), err.toString(StandardCharsets.UTF_8));
        List<String> lines = stdout().lines().toList();
        assertTrue(lines.get(0).startsWith("model " + TestModels.storiesBin()), stdout());
        String header = lines.stream().filter(l -> l.startsWith("batch")).findFirst().orElseThrow(() ->
                new AssertionError("no table header:\n" + stdout()));
        assertTrue(header.matches("batch +decoder +k +tokens/s +tokens/pass +vs autoregressive +rounds.*"), header);
        String ar = lines.stream().filter(l -> l.matches("1 +autoregressive +- +[0-9.]+ +1\\.00 +1\\.00× .*"))
                .findFirst().orElseThrow(() -> new AssertionError("no autoregressive row:\n" + stdout()));
        assertTrue(lines.stream().anyMatch(l -> l.matches("1 +quadratic +2 +[0-9.]+ +[0-9.]+ +[0-9.]+× .*")),
                stdout());
        assertTrue(!stdout().contains("{"), "no JSON by default:\n" + stdout());
        out.reset();
        String[] json = java.util.Arrays.copyOf(args, args.length + 1);
        json[args.length] = "--json";
        assertEquals(0, Main.execute(json));
        JsonNode n = new ObjectMapper().readTree(stdout());
        assertEquals(2, n.at("/decoders/quadratic/k").asInt());
        assertTrue(n.at("/decoders/autoregressive/tokens_per_second_median").asDouble() > 0, ar);
    }

    @Test
    void benchTablePrintsTheRooflineWhenMeasured() throws Exception {
        JsonNode block = new ObjectMapper().readTree("""
                {"model":"m","backend":"cpu","adapter":"a","cache_positions":16,"repeats":3,
                 "roofline":{"threads":2,"read_gb_per_s":16.5,"fma_peak_gflops":160.24,"in_cache_matmul_gflops":70.5},
                 "block_ms":{"1":{"median_ms":92.0,"relative_to_1_row":1.0,"weight_gb_per_s":15.74,
                                  "pct_of_read_bandwidth":95.4,"gflops":17.2,"pct_of_fma_peak":10.7},
                             "81":{"median_ms":2000.0,"relative_to_1_row":21.7,"weight_gb_per_s":0.72,
                                   "pct_of_read_bandwidth":4.4,"paired_pct_of_read_bandwidth":5.2,"gflops":59.3,
                                   "pct_of_fma_peak":37.0,"paired_pct_of_fma_peak":41.4}}}""");
        String text = BenchTable.render(block);
        assertTrue(text.contains("roofline (2 threads, same run): read bandwidth 16.50 GB/s, FMA peak 160.2 GFLOP/s, "
                + "in-cache matmul 70.5 GFLOP/s"), text);
        assertTrue(text.lines().anyMatch(l -> l.matches("81 +2000\\.000 +21\\.70× +0\\.72 +4% +5% +59\\.3 +37% +41%")), text);
        JsonNode decode = new ObjectMapper().readTree("""
                {"model":"m","backend":"cpu","adapter":"a","prompts":1,"steps":8,"warmup":0,"repeats":1,"batch_size":1,
                 "roofline":{"threads":2,"read_gb_per_s":16.5,"fma_peak_gflops":160.0,"in_cache_matmul_gflops":70.0},
                 "decoders":{"autoregressive":{"tokens_per_second_median":11.0,"tokens_per_pass":1.0,
                             "weight_gb_per_s":15.9,"pct_of_read_bandwidth":96.4,"tokens_per_second_rounds":[11.0]}}}""");
        assertTrue(BenchTable.render(decode).contains("batch-1 autoregressive decoding reads 15.90 GB/s of weights: 96% "
                + "of the measured read bandwidth"), BenchTable.render(decode));
        JsonNode plain = new ObjectMapper().readTree("""
                {"model":"m","backend":"cpu","adapter":"a","cache_positions":16,"repeats":3,
                 "block_ms":{"1":{"median_ms":92.0,"relative_to_1_row":1.0}}}""");
        assertTrue(!BenchTable.render(plain).contains("roofline"), BenchTable.render(plain));
    }

    @Test
    void textTableAlignsColumns() {
        String t = new TextTable(1, "name", "value").row("a", "1.5").row("longer", "10.25").render();
        assertEquals("name    value\na         1.5\nlonger  10.25\n", t);
    }

    @Test
    void convertSaysWhatItDidWithALlama2cTokenizer(@TempDir Path dir) {
        Path hf = dir.resolve("hf");
        assertEquals(0, Main.execute("convert", "--model", TestModels.storiesBin().toString(), "--out",
                hf.toString()));
        assertTrue(Files.isRegularFile(hf.resolve("tokenizer.bin")));
        assertTrue(!Files.exists(hf.resolve("tokenizer.json")));
        assertTrue(stdout().contains("copied the llama2.c tokenizer " + TestModels.tok512() + " as "
                + hf.resolve("tokenizer.bin") + " (no tokenizer.json written: Hugging Face tools will not find a "
                + "tokenizer there; this engine reads tokenizer.bin)"), stdout());
    }

    @Test
    void aWhitespaceOnlyPromptIsCalledBlank() {
        assertEquals(2, Main.execute("generate", "--model", TestModels.storiesBin().toString(), "--prompt", "  \t "));
        String e = err.toString(StandardCharsets.UTF_8);
        assertTrue(e.contains("--prompt is blank (whitespace only)"), e);
        assertTrue(!e.contains("empty"), e);
    }

    @Test
    void theRelaunchDropsOnlyTheIncubatorWarning() throws Exception {
        String warning = "WARNING: Using incubator modules: jdk.incubator.vector\n";
        assertEquals("error: x\n", filtered(warning + "error: x\n"));
        assertEquals("step 1\rstep 2", filtered(warning + "step 1\rstep 2"));
        assertEquals("error: first\n" + warning, filtered("error: first\n" + warning), "only as the first line");
        assertEquals("WARNING: Using incubator", filtered("WARNING: Using incubator"), "a cut-off line is kept");
        assertEquals("", filtered(""));
    }

    private static String filtered(String in) throws Exception {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        IncubatorWarningFilter.copy(new java.io.ByteArrayInputStream(in.getBytes(StandardCharsets.UTF_8)), o);
        return o.toString(StandardCharsets.UTF_8);
    }
}
