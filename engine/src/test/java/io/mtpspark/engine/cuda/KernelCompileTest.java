package io.mtpspark.engine.cuda;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Compiles every CUDA kernel resource with {@code nvcc -ptx -arch=sm_90}, so a syntax or type error in a kernel
 * fails the build on machines without a GPU (production compiles the same sources with NVRTC at start-up). Also
 * checks what nvcc would let through but NVRTC would not: system headers (NVRTC has none) and the INFINITY macro
 * (from math.h). Skipped, with the reason, when nvcc is not installed.
 */
class KernelCompileTest {
    private static Path nvcc;
    private static Path sourceDir;

    @BeforeAll
    static void findNvccAndSources() throws URISyntaxException {
        nvcc = findNvcc();
        java.net.URI header = KernelSources.class.getResource(KernelSources.HEADER).toURI();
        // from a jar (the GPU bundle runs tests against the shaded jar) the sources are read from the checkout
        sourceDir = "file".equals(header.getScheme()) ? Path.of(header).getParent()
                : io.mtpspark.engine.TestModels.repoRoot().resolve("engine/src/main/resources/io/mtpspark/engine/cuda");
    }

    static Path findNvcc() {
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(java.io.File.pathSeparator)) {
                if (!dir.isEmpty()) {
                    candidates.add(Path.of(dir, "nvcc"));
                }
            }
        }
        String home = System.getenv("CUDA_HOME");
        if (home != null) {
            candidates.add(Path.of(home, "bin", "nvcc"));
        }
        candidates.add(Path.of("/usr/local/cuda/bin/nvcc"));
        return candidates.stream().filter(Files::isExecutable).findFirst().orElse(null);
    }

    /** Compiles one source; returns null on success, else the compiler's output. */
    static String compile(Path source, Path outDir) {
        try {
            Path ptx = outDir.resolve(source.getFileName() + ".ptx");
            Process p = new ProcessBuilder(nvcc.toString(), "-ptx", "-arch=sm_90", "-I", sourceDir.toString(),
                    source.toString(), "-o", ptx.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "nvcc timed out on " + source;
            }
            if (p.exitValue() != 0) {
                return "nvcc exit " + p.exitValue() + " on " + source.getFileName() + ":\n" + out;
            }
            if (!Files.isRegularFile(ptx) || Files.size(ptx) == 0) {
                return "nvcc wrote no PTX for " + source.getFileName() + ":\n" + out;
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Set<String> cuFiles() throws IOException {
        try (Stream<Path> files = Files.list(sourceDir)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".cu"))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
    }

    @Test
    void everyKernelCompilesWithNvcc(@TempDir Path out) throws IOException {
        assumeTrue(nvcc != null, "nvcc not found on PATH, $CUDA_HOME/bin or /usr/local/cuda/bin: kernels not compiled");
        List<String> failures = new ArrayList<>();
        for (String f : cuFiles()) {
            String err = compile(sourceDir.resolve(f), out);
            if (err != null) {
                failures.add(err);
            }
        }
        if (!failures.isEmpty()) {
            fail(String.join("\n\n", failures));
        }
    }

    @Test
    void aBrokenKernelFailsWithTheCompilerMessage(@TempDir Path out) throws IOException {
        assumeTrue(nvcc != null, "nvcc not found: the negative compile test needs it");
        Path broken = out.resolve("broken.cu");
        Files.writeString(broken, "extern \"C\" __global__ void broken(float* a, int n) {\n"
                + "    a[threadIdx.x] = undeclared_thing * 2.0f\n}\n");
        String err = compile(broken, out);
        assertTrue(err != null, "a kernel with an undeclared name and a missing semicolon must not compile");
        assertTrue(err.contains("broken.cu") && err.contains("error"), err);
    }

    @Test
    void sourcesListMatchesTheFilesAndEntryPoints() throws IOException {
        Set<String> listed = KernelSources.ALL.stream().map(KernelSources.Kernel::file)
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(cuFiles(), listed, "KernelSources.ALL must list every .cu resource (NVRTC loads only those)");
        Pattern global = Pattern.compile("extern\\s+\"C\"\\s+__global__\\s+void\\s+(\\w+)\\s*\\(");
        for (KernelSources.Kernel k : KernelSources.ALL) {
            String src = KernelSources.read(k.file());
            Matcher m = global.matcher(src);
            List<String> entries = new ArrayList<>();
            while (m.find()) {
                entries.add(m.group(1));
            }
            assertEquals(List.of(k.entry()), entries, k.file() + ": exactly one extern \"C\" __global__ entry");
        }
    }

    @Test
    void sourcesAvoidWhatNvrtcLacks() throws IOException {
        Pattern include = Pattern.compile("^\\s*#\\s*include\\s*(\\S+)", Pattern.MULTILINE);
        List<String> files = new ArrayList<>(cuFiles());
        files.add(KernelSources.HEADER);
        for (String f : files) {
            String src = KernelSources.read(f);
            Matcher m = include.matcher(src);
            while (m.find()) {
                assertEquals("\"" + KernelSources.HEADER + "\"", m.group(1), f + ": NVRTC only gets our header");
            }
            String code = src.replaceAll("//[^\n]*", "");
            assertFalse(code.contains("INFINITY"), f + ": INFINITY comes from math.h, which NVRTC lacks");
            assertFalse(code.contains("size_t"), f + ": size_t needs a system header under NVRTC; use long long");
        }
    }
}
