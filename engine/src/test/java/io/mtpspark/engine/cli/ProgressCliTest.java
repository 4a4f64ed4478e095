package io.mtpspark.engine.cli;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.mtp.MtpAdapter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Long CLI work says how far it got on stderr: {@code generate --prompts FILE} and {@code eval}. */
class ProgressCliTest {
    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @Test
    void generateFromAFileReportsProgressOnStderrOnly(@TempDir Path dir) throws Exception {
        Path prompts = Files.writeString(dir.resolve("p.txt"), "Once upon a time\nLily wanted to\nThe little dog\n");
        assertEquals(0, Main.execute("generate", "--model", TestModels.storiesBin().toString(), "--prompts",
                prompts.toString(), "--max-tokens", "8", "--progress-every", "0.000001"), console.stderr());
        List<String> lines = console.stderr().lines().filter(l -> l.startsWith("progress: ") || l.startsWith("done: "))
                .toList();
        assertTrue(lines.get(0).matches("progress: 1/3 prompts \\(33%\\) \\| [0-9,]+ tokens/s \\| 0 errors \\| "
                + "\\d+m\\d\\ds elapsed, ETA \\d+m\\d\\ds"), lines.toString());
        assertTrue(lines.get(lines.size() - 1).startsWith("done: 3/3 prompts (100%)"), lines.toString());
        assertTrue(!console.stdout().contains("progress"), "results stay alone on stdout");
        console.reset();
        assertEquals(0, Main.execute("generate", "--model", TestModels.storiesBin().toString(), "--prompts",
                prompts.toString(), "--max-tokens", "8"));
        assertEquals(List.of("done"), console.stderr().lines().filter(l -> l.matches("(progress|done): .*"))
                .map(l -> l.substring(0, l.indexOf(':'))).toList(), "default interval: only the last line");
    }

    @Test
    void evalReportsEveryGeneration(@TempDir Path dir) throws Exception {
        Path adapter = dir.resolve("a.safetensors");
        MtpAdapter.random(TestModels.stories(), 2, 2, 1).save(adapter, TestModels.stories());
        Path prompts = Files.writeString(dir.resolve("p.txt"), "Once upon a time\nLily wanted to\n");
        assertEquals(0, Main.execute("eval", "--model", TestModels.storiesBin().toString(), "--adapter",
                adapter.toString(), "--prompts", prompts.toString(), "--ks", "1,2", "--decoders", "linear",
                "--max-tokens", "8", "--progress-every", "0.000001"), console.stderr());
        String err = console.stderr();
        assertTrue(err.contains("progress: 1/6 generations"), err);
        assertTrue(err.contains("done: 6/6 generations (100%)"), err);
    }
}
