package io.mtpspark.engine.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs kernels in the CPU emulator (test resource {@code kernel_emulator.cpp}, built with g++ by the test): each
 * launch writes every buffer and the arguments to a file, runs the emulator and reads the buffers back. Buffer
 * handles are indexes. Emulation checks the kernels' logic (indexing, masks, reductions across threads and warps),
 * not CUDA itself.
 */
final class EmulatedDevice implements KernelDevice {
    private final Path emulator;
    private final Path work;
    private final List<byte[]> buffers = new ArrayList<>();
    private final List<Integer> kinds = new ArrayList<>();
    private TestArgs pending = new TestArgs();

    EmulatedDevice(Path emulator, Path work) {
        this.emulator = emulator;
        this.work = work;
    }

    private long add(int kind, ByteBuffer data) {
        buffers.add(data.array());
        kinds.add(kind);
        return buffers.size() - 1;
    }

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public long floats(float[] a) {
        ByteBuffer b = le(a.length * 4);
        b.asFloatBuffer().put(a);
        return add(0, b);
    }

    @Override
    public long ints(int[] a) {
        ByteBuffer b = le(a.length * 4);
        b.asIntBuffer().put(a);
        return add(1, b);
    }

    @Override
    public long bytes(boolean[] a) {
        ByteBuffer b = le(a.length);
        for (boolean v : a) {
            b.put((byte) (v ? 1 : 0));
        }
        return add(2, b);
    }

    @Override
    public float[] readFloats(long buffer, int n) {
        float[] out = new float[n];
        ByteBuffer.wrap(buffers.get((int) buffer)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    @Override
    public int[] readInts(long buffer, int n) {
        int[] out = new int[n];
        ByteBuffer.wrap(buffers.get((int) buffer)).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
        return out;
    }

    @Override
    public TestArgs args() {
        pending = new TestArgs();
        return pending;
    }

    @Override
    public void launch(String entry, int gridX, int gridY, int block) {
        try {
            byte[] name = entry.getBytes(StandardCharsets.UTF_8);
            int size = 4 + name.length + 12 + 4 + 4 + 4 + pending.values.size() * 12;
            for (byte[] b : buffers) {
                size += 8 + b.length;
            }
            ByteBuffer in = le(size);
            in.putInt(name.length).put(name).putInt(gridX).putInt(gridY).putInt(block);
            in.putInt(buffers.size());
            for (int i = 0; i < buffers.size(); i++) {
                int kind = kinds.get(i);
                in.putInt(kind).putInt(kind == 2 ? buffers.get(i).length : buffers.get(i).length / 4);
                in.put(buffers.get(i));
            }
            in.putInt(pending.values.size());
            for (TestArgs.Value v : pending.values) {
                switch (v.type()) {
                    case BUFFER -> in.putInt(0).putInt((int) v.bits());
                    case INT -> in.putInt(1).putInt((int) v.bits());
                    case FLOAT -> in.putInt(2).putInt((int) v.bits());
                    case LONG -> in.putInt(3).putLong(v.bits());
                }
            }
            Path inFile = work.resolve("launch.in");
            Path outFile = work.resolve("launch.out");
            Files.write(inFile, java.util.Arrays.copyOf(in.array(), in.position()));
            Process p = new ProcessBuilder(emulator.toString(), inFile.toString(), outFile.toString())
                    .redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("emulated " + entry + " timed out (a barrier deadlock?)");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("emulated " + entry + " failed: " + log);
            }
            ByteBuffer out = ByteBuffer.wrap(Files.readAllBytes(outFile));
            for (byte[] b : buffers) {
                out.get(b);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        buffers.clear();
        kinds.clear();
    }
}
