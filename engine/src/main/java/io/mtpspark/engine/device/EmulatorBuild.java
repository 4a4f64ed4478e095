package io.mtpspark.engine.device;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.cuda.KernelSources;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds the device emulator ({@code device_emulator.cpp} with the project's {@code .cu} kernels, all shipped as
 * resources) with g++ on first use, into a cache directory keyed by a hash of the sources, so tests and the CLI
 * compile it once per machine (about 10 s) and reuse it after that. The compiler is {@code g++} on the PATH, or the
 * system property {@code mtp.emulator.cxx}; the cache is {@code mtp.emulator.dir} (default under java.io.tmpdir).
 */
public final class EmulatorBuild {
    private static final String SOURCE = "device_emulator.cpp";
    private static final List<String> FLAGS = List.of("-O2", "-std=c++20", "-ffp-contract=off");
    private static Path built;
    private static String failure;

    private EmulatorBuild() {
    }

    /** The emulator binary, built if needed; throws an {@link EngineException} saying why it cannot be built. */
    public static synchronized Path binary() {
        if (built != null) {
            return built;
        }
        if (failure != null) {
            throw new EngineException(failure);
        }
        try {
            built = build();
            return built;
        } catch (EngineException e) {
            failure = e.getMessage();
            throw e;
        }
    }

    /** Null when the emulator can be built here, else the reason (for tests that skip without g++). */
    public static synchronized String unavailableReason() {
        try {
            binary();
            return null;
        } catch (EngineException e) {
            return e.getMessage();
        }
    }

    private static Path build() {
        String cxx = System.getProperty("mtp.emulator.cxx", "g++");
        List<String[]> files = new ArrayList<>();
        files.add(new String[]{SOURCE, resource(SOURCE)});
        files.add(new String[]{KernelSources.HEADER, KernelSources.read(KernelSources.HEADER)});
        for (KernelSources.Kernel k : KernelSources.ALL) {
            files.add(new String[]{k.file(), KernelSources.read(k.file())});
        }
        String hash = hash(files, cxx);
        Path root = Path.of(System.getProperty("mtp.emulator.dir",
                Path.of(System.getProperty("java.io.tmpdir"), "mtp-device-emulator-" + System.getProperty("user.name"))
                        .toString()));
        Path dir = root.resolve(hash);
        Path binary = dir.resolve("device_emulator");
        if (Files.isExecutable(binary)) {
            return binary;
        }
        try {
            Files.createDirectories(dir);
            Path src = Files.createTempDirectory(dir, "src");
            for (String[] f : files) {
                Files.writeString(src.resolve(f[0]), f[1], StandardCharsets.UTF_8);
            }
            Path tmp = src.resolve("device_emulator");
            List<String> cmd = new ArrayList<>(List.of(cxx));
            cmd.addAll(FLAGS);
            cmd.addAll(List.of("-o", tmp.toString(), src.resolve(SOURCE).toString()));
            Process p;
            try {
                p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            } catch (IOException e) {
                throw new EngineException("the device emulator needs a C++20 compiler: cannot run " + cxx + " ("
                        + e.getMessage() + "); install g++ (apt-get install g++) or set -Dmtp.emulator.cxx");
            }
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new EngineException("building the device emulator with " + cxx + " failed: " + log.strip());
            }
            Files.move(tmp, binary, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return binary;
        } catch (IOException e) {
            throw new EngineException(null, "cannot build the device emulator in " + dir + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("interrupted while building the device emulator");
        }
    }

    private static String resource(String name) {
        try (InputStream in = EmulatorBuild.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new EngineException("device emulator source " + name + " missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new EngineException(null, "cannot read " + name + ": " + e.getMessage(), e);
        }
    }

    private static String hash(List<String[]> files, String cxx) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update((cxx + FLAGS).getBytes(StandardCharsets.UTF_8));
            for (String[] f : files) {
                md.update(f[0].getBytes(StandardCharsets.UTF_8));
                md.update(f[1].getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
