package io.mtpspark.engine.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.model.LlamaConfig;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Issue 17, item 8: a batch × context the heap cannot hold is refused with the numbers, not an OutOfMemoryError. */
class MemoryEstimateTest {
    @Test
    void refusesWithTheNumbers() {
        LlamaConfig c = TestModels.stories().config();
        long kv = MemoryEstimate.kvCacheBytes(c, 512, 1024);
        assertEquals(2L * 4 * c.nLayers() * c.kvDim() * 512 * 1024, kv);
        EngineException e = assertThrows(EngineException.class,
                () -> MemoryEstimate.check(c, 512, 1024, 64 * 1024, 1024, 100L << 20));
        assertTrue(e.getMessage().startsWith("not enough memory for batch 1024 × context 512: the KV cache needs up to "
                + MemoryEstimate.gib(kv)), e.getMessage());
        assertTrue(e.getMessage().contains("free of") && e.getMessage().contains("lower --batch-size or --context"),
                e.getMessage());
        MemoryEstimate.check(c, 512, 4, 256, 4, 100L << 20); // a small batch fits in 100 MiB
    }

    /**
     * The real thing: the CLI in a JVM with a 160 MiB heap, asked for 1024 sequences of 512 positions (~1.3 GB of
     * KV cache). Without the check it ran out of memory; with it, it exits 2 with one line naming the numbers.
     */
    @Test
    void theCliInASmallHeapRefusesAHugeBatchInsteadOfRunningOutOfMemory() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(List.of(java.toString(), "-Xmx160m",
                "--add-modules=jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                "io.mtpspark.engine.cli.Main", "generate", "--model", TestModels.storiesBin().toString(),
                "--prompt", "Once upon a time", "--batch-size", "1024", "--max-tokens", "4")).redirectErrorStream(true);
        Process p = pb.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(2, p.exitValue(), text);
        assertTrue(text.contains("not enough memory for batch 1024 × context 512"), text);
        assertTrue(!text.contains("OutOfMemoryError"), text);
    }
}
