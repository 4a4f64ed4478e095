package io.mtpspark.engine.device;

import io.mtpspark.engine.EngineException;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The {@link DeviceApi} on the CPU emulator: one long-lived {@code device_emulator} process ({@link EmulatorBuild})
 * driven over its stdin/stdout. Commands that return nothing (launches, copies to the device, memsets) are only
 * written, so a forward costs no round trip per launch; GEMMs wait for cuBLAS's argument checks, and syncs and copies
 * to the host wait for the emulator to reach them and report the sticky error if there is one. The emulator's
 * addresses are real addresses in its own process; every pointer is checked there against its allocation map.
 */
public final class EmulatedDevice implements DeviceApi {
    /** Device memory the emulator pretends to have unless told otherwise. */
    public static final long DEFAULT_TOTAL_BYTES = 8L << 30;
    private static final int OP_MALLOC = 1, OP_FREE = 2, OP_MEMSET = 3, OP_H2D = 4, OP_D2H = 5, OP_LAUNCH = 6,
            OP_GEMM = 7, OP_SYNC = 8, OP_KERNEL = 9, OP_BEGIN_CAPTURE = 10, OP_END_CAPTURE = 11,
            OP_LAUNCH_GRAPH = 12, OP_DESTROY_GRAPH = 13, OP_MEMINFO = 14, OP_RESET = 15, OP_D2D = 16, OP_EXIT = 17;
    private static final int CUDA_R_32F = 0, CUDA_R_16BF = 14;

    private final Process process;
    private final Path stderr;
    private final OutputStream out;
    private final InputStream in;
    private final byte[] scratch = new byte[1 << 16];
    private final ByteBuffer word = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    private final Map<String, Integer> kernels = new HashMap<>();
    private final long total;
    private long events;

    private EmulatedDevice(long totalBytes) {
        Path binary = EmulatorBuild.binary();
        this.total = totalBytes;
        try {
            stderr = Files.createTempFile("mtp-device-emulator", ".log");
            stderr.toFile().deleteOnExit();
            process = new ProcessBuilder(binary.toString(), Long.toString(totalBytes))
                    .redirectError(stderr.toFile()).start();
        } catch (IOException e) {
            throw new EngineException(null, "cannot start the device emulator " + binary + ": " + e.getMessage(), e);
        }
        out = new BufferedOutputStream(process.getOutputStream(), 1 << 16);
        in = new BufferedInputStream(process.getInputStream(), 1 << 16);
    }

    /** A fresh emulator process pretending to have {@value #DEFAULT_TOTAL_BYTES} bytes of device memory. */
    public static EmulatedDevice open() {
        return open(Long.getLong("mtp.emulator.memory", DEFAULT_TOTAL_BYTES));
    }

    public static EmulatedDevice open(long totalBytes) {
        return new EmulatedDevice(totalBytes);
    }

    @Override
    public String name() {
        return "emulated device (CPU, " + (total >> 20) + " MiB)";
    }

    /** Frees everything and clears the sticky error: a new context in the same process (tests that plant bugs). */
    public void reset() {
        op(OP_RESET);
        kernels.clear();
    }

    @Override
    public long malloc(long bytes) {
        op(OP_MALLOC);
        i64(bytes);
        long p = readLong();
        if (p == 0) {
            throw new EngineException("device out of memory: cannot allocate " + bytes + " bytes (" + freeBytes()
                    + " of " + total + " free)");
        }
        return p;
    }

    @Override
    public void free(long address) {
        op(OP_FREE);
        i64(address);
    }

    @Override
    public void memset(long address, int value, long bytes) {
        op(OP_MEMSET);
        i64(address);
        i32(value);
        i64(bytes);
    }

    @Override
    public HostBuffer pinned(long bytes) {
        return new HostBuffer(ByteBuffer.allocateDirect(Math.toIntExact(bytes)), 0, () -> { });
    }

    @Override
    public void copyToDevice(long dst, HostBuffer src, long srcOffset, long bytes) {
        op(OP_H2D);
        i64(dst);
        i64(bytes);
        ByteBuffer b = src.bytes();
        int at = Math.toIntExact(srcOffset);
        int left = Math.toIntExact(bytes);
        try {
            while (left > 0) {
                int n = Math.min(left, scratch.length);
                b.get(at, scratch, 0, n);
                out.write(scratch, 0, n);
                at += n;
                left -= n;
            }
        } catch (IOException e) {
            throw died(e);
        }
    }

    @Override
    public void copyToHost(HostBuffer dst, long dstOffset, long src, long bytes) {
        op(OP_D2H);
        i64(src);
        i64(bytes);
        flush();
        checkStatus("device-to-host copy");
        ByteBuffer b = dst.bytes();
        int at = Math.toIntExact(dstOffset);
        int left = Math.toIntExact(bytes);
        while (left > 0) {
            int n = Math.min(left, scratch.length);
            readFully(scratch, n);
            b.put(at, scratch, 0, n);
            at += n;
            left -= n;
        }
    }

    @Override
    public void copyOnDevice(long dst, long src, long bytes) {
        op(OP_D2D);
        i64(dst);
        i64(src);
        i64(bytes);
    }

    @Override
    public int kernel(String entry) {
        Integer id = kernels.get(entry);
        if (id == null) {
            byte[] name = entry.getBytes(StandardCharsets.UTF_8);
            op(OP_KERNEL);
            i32(name.length);
            write(name, name.length);
            id = readInt();
            if (id < 0) {
                throw new IllegalArgumentException("the device emulator has no kernel " + entry);
            }
            kernels.put(entry, id);
        }
        return id;
    }

    @Override
    public void launch(int kernel, int gridX, int gridY, int gridZ, int block, LaunchArgs args) {
        op(OP_LAUNCH);
        i32(kernel);
        i32(gridX);
        i32(gridY);
        i32(gridZ);
        i32(block);
        i32(0);
        i32(args.count());
        for (int i = 0; i < args.count(); i++) {
            i32(args.type(i));
            i64(args.value(i));
        }
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, ElementType aType,
                     int lda, long b, ElementType bType, int ldb, float beta, long c, ElementType cType, int ldc) {
        op(OP_GEMM);
        i32(transA ? 1 : 0);
        i32(transB ? 1 : 0);
        i32(m);
        i32(n);
        i32(k);
        f32(alpha);
        i64(a);
        i32(type(aType));
        i32(lda);
        i64(b);
        i32(type(bType));
        i32(ldb);
        f32(beta);
        i64(c);
        i32(type(cType));
        i32(ldc);
        i32(68); // CUBLAS_COMPUTE_32F
        flush();
        int status = readInt();
        String why = readString();
        if (status != 0) {
            String name = status == 7 ? "CUBLAS_STATUS_INVALID_VALUE" : status == 15 ? "CUBLAS_STATUS_NOT_SUPPORTED"
                    : "status " + status;
            throw new EngineException("cuBLAS cublasGemmEx failed: " + name + " (" + why + ")");
        }
    }

    private static int type(ElementType t) {
        return t == ElementType.BF16 ? CUDA_R_16BF : CUDA_R_32F;
    }

    @Override
    public void sync() {
        op(OP_SYNC);
        int status = readInt();
        String why = readString();
        if (status != 0) {
            throw new EngineException("emulated device: stream synchronize failed: " + why);
        }
    }

    @Override
    public long newEvent() {
        return ++events;
    }

    @Override
    public void recordEvent(long event) {
        // the emulator runs commands in order as they arrive: recorded work is queued before anything after it
    }

    @Override
    public void awaitEvent(long event) {
        sync();
    }

    @Override
    public void beginCapture() {
        op(OP_BEGIN_CAPTURE);
    }

    @Override
    public long endCapture() {
        op(OP_END_CAPTURE);
        flush();
        int id = readInt();
        String why = readString();
        if (id < 0) {
            throw new EngineException("CUDA cudaStreamEndCapture failed: " + why);
        }
        return id;
    }

    @Override
    public void launchGraph(long graph) {
        op(OP_LAUNCH_GRAPH);
        i32((int) graph);
    }

    @Override
    public void destroyGraph(long graph) {
        op(OP_DESTROY_GRAPH);
        i32((int) graph);
    }

    @Override
    public long freeBytes() {
        op(OP_MEMINFO);
        flush();
        long free = readLong();
        readLong();
        return free;
    }

    @Override
    public long totalBytes() {
        return total;
    }

    @Override
    public void close() {
        try {
            op(OP_EXIT);
            flush();
            out.close();
        } catch (RuntimeException | IOException ignored) {
            // the process may already be gone; it is destroyed below either way
        }
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------------------------------------ wire format

    private void checkStatus(String call) {
        int status = readInt();
        if (status != 0) {
            throw new EngineException("emulated device: " + call + " failed: " + readString());
        }
    }

    private void op(int code) {
        i32(code);
    }

    private void i32(int v) {
        word.putInt(0, v);
        write(word.array(), 4);
    }

    private void f32(float v) {
        word.putFloat(0, v);
        write(word.array(), 4);
    }

    private void i64(long v) {
        word.putLong(0, v);
        write(word.array(), 8);
    }

    private void write(byte[] b, int n) {
        try {
            out.write(b, 0, n);
        } catch (IOException e) {
            throw died(e);
        }
    }

    private void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            throw died(e);
        }
    }

    private int readInt() {
        readFully(word.array(), 4);
        return word.getInt(0);
    }

    private long readLong() {
        readFully(word.array(), 8);
        return word.getLong(0);
    }

    private String readString() {
        int n = readInt();
        byte[] b = new byte[n];
        readFully(b, n);
        return new String(b, StandardCharsets.UTF_8);
    }

    private void readFully(byte[] b, int n) {
        try {
            out.flush(); // every read waits on a reply to what was written
            int at = 0;
            while (at < n) {
                int r = in.read(b, at, n - at);
                if (r < 0) {
                    throw new EOFException();
                }
                at += r;
            }
        } catch (IOException e) {
            throw died(e);
        }
    }

    private EngineException died(IOException cause) {
        String log = "";
        try {
            process.waitFor(2, TimeUnit.SECONDS);
            log = Files.readString(stderr).strip();
        } catch (IOException | InterruptedException ignored) {
            // the cause below is still worth reporting
        }
        return new EngineException(null, "the device emulator stopped" + (process.isAlive() ? "" : " (exit "
                + process.exitValue() + ")") + ": " + (log.isEmpty() ? cause.toString() : log), cause);
    }
}
