package io.mtpspark.engine.cuda;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link KernelChecks} in the CPU emulator, so kernel logic is tested on machines without a GPU: the kernel sources
 * are compiled with g++ behind a CUDA shim (test resource {@code kernel_emulator.cpp}) and each block runs as real
 * threads with barriers and warp shuffles. Skipped, with the reason, when no g++ with C++20 is installed. Passing
 * here does not prove the kernels on a GPU (NVRTC, the memory model, launch limits): {@link CudaKernelsTest} does.
 */
class EmulatedKernelsTest extends KernelChecks {
    @TempDir
    static Path work;
    private static Path emulator;
    private static String whyNot;
    private EmulatedDevice device;

    @BeforeAll
    static void build() throws IOException, InterruptedException, URISyntaxException {
        Path gxx = Path.of("/usr/bin/g++");
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(java.io.File.pathSeparator)) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "g++"))) {
                    gxx = Path.of(dir, "g++");
                    break;
                }
            }
        }
        if (!Files.isExecutable(gxx)) {
            whyNot = "g++ not found: kernel emulation skipped";
            return;
        }
        Path src = work.resolve("kernel_emulator.cpp");
        try (var in = EmulatedKernelsTest.class.getResourceAsStream("kernel_emulator.cpp")) {
            Files.copy(in, src);
        }
        // the kernels and their header, as shipped (from the classpath, so a jar works too)
        for (String f : KernelSources.ALL.stream().map(KernelSources.Kernel::file).toList()) {
            Files.writeString(work.resolve(f), KernelSources.read(f));
        }
        Files.writeString(work.resolve(KernelSources.HEADER), KernelSources.read(KernelSources.HEADER));
        emulator = work.resolve("kernel_emulator");
        Process p = new ProcessBuilder(List.of(gxx.toString(), "-std=c++20", "-O1", "-pthread", "-I", work.toString(),
                src.toString(), "-o", emulator.toString())).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            whyNot = "g++ timed out building the kernel emulator";
            return;
        }
        if (out.contains("unrecognized command-line option '-std=c++20'")) {
            whyNot = "g++ without C++20: kernel emulation skipped";
            return;
        }
        // any other compile error is a real failure: a kernel that no longer fits the shim or a broken harness
        assertEquals(0, p.exitValue(), "building the kernel emulator failed:\n" + out);
    }

    @BeforeEach
    void requireEmulator() {
        assumeTrue(emulator != null, () -> whyNot);
        device = new EmulatedDevice(emulator, work);
    }

    @Override
    KernelDevice dev() {
        return device;
    }
}
