package io.mtpspark.engine.cuda;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.session.BackendChoice;
import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.tensor.CpuBackend;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * GPU detection and backend choice. On a machine without a usable GPU (CI, this project's build machines), detection
 * must answer "no GPU" with a reason instead of crashing, twice in a row; {@code auto} falls back to the CPU backend
 * and logs why; {@code cuda} fails with that reason. On a GPU machine the no-GPU assertions are skipped and the
 * GPU-side ones run.
 */
class GpuDetectionTest {

    @Test
    void detectionAnswersTwiceWithTheSameCachedStatus() {
        GpuStatus first = GpuDetector.detect();
        GpuStatus second = GpuDetector.detect();
        assertSame(first, second, "detection is cached per JVM");
        assertFalse(first.reason().isBlank());
        if (first.available()) {
            assertTrue(first.deviceName() != null && !first.deviceName().isBlank());
            assertTrue(first.computeMajor() >= 5, "compute capability " + first.computeMajor());
        } else {
            assertEquals(null, first.deviceName());
        }
        System.out.println("CUDA detection: " + first.reason());
    }

    @Test
    void autoFallsBackToCpuAndSaysWhy() {
        GpuStatus gpu = GpuDetector.detect();
        assumeFalse(gpu.available(), "a GPU is present (" + gpu.reason() + "): the fallback path is not taken");
        List<String> lines = new ArrayList<>();
        Logger log = Logger.getLogger(BackendChoice.class.getName());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                lines.add(r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(capture);
        try (Backend b = BackendChoice.AUTO.create(1)) {
            assertInstanceOf(CpuBackend.class, b);
        } finally {
            log.removeHandler(capture);
        }
        assertEquals(1, lines.size(), "one log line: " + lines);
        assertTrue(lines.get(0).contains("no usable GPU") && lines.get(0).contains(gpu.reason()), lines.get(0));
    }

    @Test
    void cudaWithoutGpuFailsWithTheReason() {
        GpuStatus gpu = GpuDetector.detect();
        assumeFalse(gpu.available(), "a GPU is present (" + gpu.reason() + ")");
        EngineException e = assertThrows(EngineException.class, () -> BackendChoice.CUDA.create(1));
        assertTrue(e.getMessage().startsWith("--backend cuda: no usable GPU: "), e.getMessage());
        assertTrue(e.getMessage().contains(gpu.reason()), e.getMessage());
        // asking again must give the same clean error, not a NoClassDefFoundError from a poisoned class
        EngineException again = assertThrows(EngineException.class, () -> BackendChoice.CUDA.create(1));
        assertEquals(e.getMessage(), again.getMessage());
        assertThrows(EngineException.class, () -> CudaDevice.open(0));
    }

    @Test
    void parseKnowsCuda() {
        assertEquals(BackendChoice.CUDA, BackendChoice.parse("cuda"));
        assertEquals(BackendChoice.CUDA, BackendChoice.parse("CUDA"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BackendChoice.parse("gpu"));
        assertTrue(e.getMessage().contains("auto, cuda, emulated, cpu or scalar"), e.getMessage());
    }

    @Test
    void describeKeepsTheCause() {
        UnsatisfiedLinkError e = new UnsatisfiedLinkError("no jnicudart in java.library.path");
        e.initCause(new UnsatisfiedLinkError("libcuda.so.1: cannot open shared object file"));
        String d = GpuDetector.describe(e);
        assertTrue(d.contains("jnicudart") && d.contains("libcuda.so.1"), d);
        UnsatisfiedLinkError wrapped = new UnsatisfiedLinkError("no jnicudart in java.library.path: /usr/lib");
        wrapped.initCause(new UnsatisfiedLinkError("/root/.javacpp/cache/x.jar/org/bytedeco/cuda/linux-x86_64/"
                + "libjnicudart.so: libcuda.so.1: cannot open shared object file: No such file or directory"));
        assertEquals("libcuda.so.1: cannot open shared object file: No such file or directory (no NVIDIA driver on "
                + "this machine)", GpuDetector.summarize(wrapped));
        assertEquals("libcublas.so.13: cannot open shared object file", GpuDetector.summarize(
                new UnsatisfiedLinkError("libcublas.so.13: cannot open shared object file")));
    }

    @Test
    void withoutDriverFilesNoNativeLibraryIsLoaded() {
        boolean driver = GpuDetector.DRIVER_FILES.stream().anyMatch(f -> java.nio.file.Files.exists(Path.of(f)));
        assumeFalse(driver, "an NVIDIA driver is installed: the native probe is the one that answers");
        GpuStatus quick = GpuDetector.probe(true);
        assertFalse(quick.available());
        assertTrue(quick.reason().startsWith("no NVIDIA driver on this machine (none of /proc/driver/nvidia/version"),
                quick.reason());
        // the native probe still answers "no GPU" without crashing, naming the missing driver library
        GpuStatus full = GpuDetector.probe(false);
        assertFalse(full.available());
        assertTrue(full.reason().contains("libcuda.so"), full.reason());
    }
}
