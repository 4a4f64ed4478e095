package io.mtpspark.engine.tensor;

import io.mtpspark.engine.TestModels;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernels' SIMD width: the head-size cap and the property's validation as functions, then the real choice in
 * a fresh JVM (the width is fixed once per JVM, so this one's kernels may already be fixed by other tests).
 */
class SimdWidthTest {

    @Test
    void aHeadCapsTheWidthAtItsSizeRoundedDownButNeverBelowEightLanes() {
        assertEquals(8, SimdWidth.capFor(8));
        assertEquals(8, SimdWidth.capFor(4));
        assertEquals(8, SimdWidth.capFor(0));
        assertEquals(32, SimdWidth.capFor(48));
        assertEquals(64, SimdWidth.capFor(64));
        assertEquals(128, SimdWidth.capFor(128));
    }

    @Test
    void thePropertyTakesPowersOfTwoOfAtLeastFourAndNamesItselfOtherwise() {
        assertEquals(4, SimdWidth.parseLanes("4"));
        assertEquals(16, SimdWidth.parseLanes(" 16 "));
        for (String bad : new String[]{"6", "2", "0", "-8", "eight", ""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SimdWidth.parseLanes(bad));
            assertTrue(e.getMessage().contains("-Dmtp.simd.lanes") && e.getMessage().contains("\"" + bad + "\""),
                    e.getMessage());
        }
    }

    @Test
    void aFreshJvmRunsStoriesWithEightLanesOrThePropertysWidth() throws Exception {
        int preferred = FloatVector.SPECIES_PREFERRED.length();
        // stories260K has heads of 8: the width is min(preferred, 8) unless the property says otherwise
        String fitted = cli();
        assertTrue(fitted.contains("SIMD " + Math.min(preferred, 8) + " lanes"), fitted);
        String four = cli("-Dmtp.simd.lanes=4");
        assertTrue(four.contains("SIMD 4 lanes"), four);
        String bad = cli("-Dmtp.simd.lanes=6");
        assertTrue(bad.contains("-Dmtp.simd.lanes: expected a power of two of at least 4, got \"6\""), bad);
        assertNotEquals(0, exit, bad);
    }

    private int exit;

    private String cli(String... jvmOptions) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "-Xmx256m"));
        cmd.addAll(List.of(jvmOptions));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.mtpspark.engine.cli.Main", "generate",
                "--model", TestModels.storiesBin().toString(), "--prompt", "Once", "--max-tokens", "2",
                "--backend", "auto", "--threads", "1"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        exit = p.exitValue();
        return out.toString(StandardCharsets.UTF_8);
    }
}
