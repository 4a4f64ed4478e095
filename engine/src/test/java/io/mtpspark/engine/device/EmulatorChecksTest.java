package io.mtpspark.engine.device;

import io.mtpspark.engine.EngineException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The emulator catches what it exists to catch: planted bugs (a bad leading dimension, an out-of-bounds pointer, an
 * out-of-bounds write, a read of never-written memory, a per-step scalar baked into a captured graph) are reported
 * or show in the results, and errors are sticky until the context is reset. Also: its GEMM is cuBLAS's column-major
 * GEMM (checked against a reference written from the BLAS definition) and BF16 rounding is nearest-even.
 */
class EmulatorChecksTest {
    private static EmulatedDevice d;

    @BeforeAll
    static void open() {
        String why = EmulatorBuild.unavailableReason();
        assumeTrue(why == null, () -> "device emulator unavailable: " + why);
        d = EmulatedDevice.open(64L << 20);
    }

    @AfterAll
    static void close() {
        if (d != null) {
            d.close();
        }
    }

    @BeforeEach
    void freshContext() {
        d.reset();
    }

    private long floats(float... v) {
        long p = d.malloc(v.length * 4L);
        try (HostBuffer h = d.pinned(v.length * 4L)) {
            h.bytes().asFloatBuffer().put(v);
            d.copyToDevice(p, h, 0, v.length * 4L);
            d.sync();
        }
        return p;
    }

    private long ints(int... v) {
        long p = d.malloc(v.length * 4L);
        try (HostBuffer h = d.pinned(v.length * 4L)) {
            h.bytes().asIntBuffer().put(v);
            d.copyToDevice(p, h, 0, v.length * 4L);
            d.sync();
        }
        return p;
    }

    private float[] read(long p, int n) {
        try (HostBuffer h = d.pinned(n * 4L)) {
            d.copyToHost(h, 0, p, n * 4L);
            d.sync();
            float[] out = new float[n];
            FloatBuffer f = h.bytes().asFloatBuffer();
            f.get(out);
            return out;
        }
    }

    @Test
    void gemmIsCublasColumnMajorWithBetaIgnoringNanWhenZero() {
        int m = 3, n = 2, k = 4;
        float[] a = new float[k * m]; // transa = T: A stored k × m, lda = k
        float[] b = new float[k * n]; // transb = N: B stored k × n, ldb = k
        for (int i = 0; i < a.length; i++) {
            a[i] = (i % 7) - 3;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (i % 5) * 0.5f;
        }
        long pa = floats(a), pb = floats(b);
        long pc = d.malloc(m * n * 4L); // poisoned NaN: beta = 0 must not read it
        d.gemm(true, false, m, n, k, 1f, pa, ElementType.F32, k, pb, ElementType.F32, k, 0f, pc, ElementType.F32, m);
        float[] c = read(pc, m * n);
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                float want = 0;
                for (int p = 0; p < k; p++) {
                    want += a[p + i * k] * b[p + j * k]; // op(A)(i,p) = A[p + i*lda], op(B)(p,j) = B[p + j*ldb]
                }
                assertEquals(want, c[i + j * m], "C(" + i + "," + j + ")");
            }
        }
        d.gemm(true, false, m, n, k, 1f, pa, ElementType.F32, k, pb, ElementType.F32, k, 1f, pc, ElementType.F32, m);
        float[] twice = read(pc, m * n);
        for (int i = 0; i < c.length; i++) {
            assertEquals(2 * c[i], twice[i], "beta = 1 adds into C");
        }
    }

    @Test
    void badLeadingDimensionIsInvalidValue() {
        long pa = floats(new float[16]), pb = floats(new float[16]), pc = d.malloc(64);
        EngineException e = assertThrows(EngineException.class, () -> d.gemm(true, false, 4, 4, 4, 1f, pa,
                ElementType.F32, 3, pb, ElementType.F32, 4, 0f, pc, ElementType.F32, 4));
        assertTrue(e.getMessage().contains("CUBLAS_STATUS_INVALID_VALUE") && e.getMessage().contains("lda 3"),
                e.getMessage());
        e = assertThrows(EngineException.class, () -> d.gemm(true, false, 4, 4, 4, 1f, pa, ElementType.BF16, 4, pb,
                ElementType.F32, 4, 0f, pc, ElementType.F32, 4));
        assertTrue(e.getMessage().contains("CUBLAS_STATUS_NOT_SUPPORTED"), e.getMessage());
    }

    @Test
    void gemmReadingPastItsOperandIsReported() {
        long pa = floats(new float[12]), pb = floats(new float[16]), pc = d.malloc(64);
        d.gemm(true, false, 4, 4, 4, 1f, pa, ElementType.F32, 4, pb, ElementType.F32, 4, 0f, pc, ElementType.F32, 4);
        EngineException e = assertThrows(EngineException.class, d::sync);
        assertTrue(e.getMessage().contains("cublasGemmEx A") && e.getMessage().contains("run past the end"),
                e.getMessage());
    }

    @Test
    void outOfBoundsPointerArgumentIsReportedAtSyncAndStaysSticky() {
        long src = floats(1, 2, 3, 4);
        long dst = d.malloc(16);
        long index = ints(0, 1);
        int gather = d.kernel("gather16");
        d.launch(gather, 2, 1, 1, 32, new LaunchArgs(8).ptr(dst).ptr(src + (1 << 20)).ptr(index).i32(2).i32(2));
        EngineException e = assertThrows(EngineException.class, d::sync);
        assertTrue(e.getMessage().contains("gather16 argument 1") && e.getMessage().contains("not inside any live"
                + " allocation"), e.getMessage());
        EngineException again = assertThrows(EngineException.class, d::sync);
        assertEquals(e.getMessage(), again.getMessage(), "errors are sticky, as a CUDA context's");
        d.reset();
        d.sync(); // a fresh context is healthy again
    }

    @Test
    void outOfBoundsWriteTripsTheCanary() {
        long out = floats(0, 0, 0, 0); // one row of 4
        long branch = floats(1, 1, 1, 1, 1, 1, 1, 1);
        long rows = ints(0, 1); // row 1 does not exist in out
        int lora = d.kernel("lora_rows");
        d.launch(lora, 2, 1, 1, 32, new LaunchArgs(8).ptr(out).ptr(branch).ptr(rows).i32(2).i32(4).i32(4).i32(0)
                .f32(1f));
        EngineException e = assertThrows(EngineException.class, d::sync);
        assertTrue(e.getMessage().contains("out-of-bounds write") && e.getMessage().contains("lora_rows"),
                e.getMessage());
    }

    @Test
    void readOfNeverWrittenMemoryShowsAsNan() {
        int dim = 8;
        long x = d.malloc(dim * 4L); // never written: poisoned
        long w = floats(1, 1, 1, 1, 1, 1, 1, 1);
        long out = d.malloc(dim * 4L);
        int rms = d.kernel("rmsnorm_to");
        LaunchArgs a = new LaunchArgs(12).ptr(out).i32(0).ptr(x).ptr(x).i32(0).ptr(w).i32(1).i32(dim).f32(1e-5f);
        d.launch(rms, 1, 1, 1, 32, a);
        for (float v : read(out, dim)) {
            assertTrue(Float.isNaN(v), "poisoned input must surface as NaN, got " + v);
        }
        long written = floats(1, 2, 3, 4, 5, 6, 7, 8);
        d.launch(rms, 1, 1, 1, 32, a.reset().ptr(out).i32(0).ptr(written).ptr(written).i32(0).ptr(w).i32(1).i32(dim)
                .f32(1e-5f));
        for (float v : read(out, dim)) {
            assertTrue(Float.isFinite(v), "written input gives finite output, got " + v);
        }
    }

    @Test
    void aPerStepScalarBakedIntoACapturedGraphGoesStale() {
        long out = floats(0, 0, 0, 0);
        long branch = floats(1, 1, 1, 1);
        long rows = ints(0);
        int lora = d.kernel("lora_rows");
        float stepScalar = 1f;
        d.beginCapture();
        d.launch(lora, 1, 1, 1, 32, new LaunchArgs(8).ptr(out).ptr(branch).ptr(rows).i32(1).i32(4).i32(4).i32(0)
                .f32(stepScalar));
        long graph = d.endCapture();
        assertEquals(0f, read(out, 4)[0], "capture records, it does not run");
        d.launchGraph(graph);
        assertEquals(1f, read(out, 4)[0]);
        stepScalar = 5f; // the next step's value changes on the host ...
        d.launchGraph(graph);
        // ... but the graph replays the argument bytes it captured: 1 + 1, not 1 + 5
        assertEquals(2f, read(out, 4)[0], "scaling " + stepScalar + " was asked for, the captured 1 ran");
        d.destroyGraph(graph);
    }

    @Test
    void copiesToTheHostDuringCaptureInvalidateIt() {
        long p = floats(1, 2);
        d.beginCapture();
        try (HostBuffer h = d.pinned(8)) {
            d.copyToDevice(p, h, 0, 8);
        }
        EngineException e = assertThrows(EngineException.class, d::endCapture);
        assertTrue(e.getMessage().contains("during stream capture"), e.getMessage());
    }

    @Test
    void outOfMemoryNamesTheNumbers() {
        EngineException e = assertThrows(EngineException.class, () -> d.malloc(1L << 40));
        assertTrue(e.getMessage().contains("cannot allocate " + (1L << 40) + " bytes"), e.getMessage());
    }
}
