package io.mtpspark.engine.cuda;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The {@code void** kernelParams} array of {@code cuLaunchKernel}, built once and refilled per launch: slot i is an
 * 8-byte native cell and entry i points at it; the kernel reads as many bytes as its i-th parameter has (8 for a
 * device pointer or {@code long long}, 4 for {@code int}/{@code float}, which sit in the cell's first bytes on a
 * little-endian host). Refilling instead of allocating keeps launches free of native allocations. Not thread-safe.
 */
final class KernelArgs implements ArgSink {
    private final LongPointer[] cells;
    private final IntPointer[] ints;
    private final FloatPointer[] floats;
    private final PointerPointer<?> params;
    private int count;

    KernelArgs(int max) {
        cells = new LongPointer[max];
        ints = new IntPointer[max];
        floats = new FloatPointer[max];
        params = new PointerPointer<>(max);
        for (int i = 0; i < max; i++) {
            cells[i] = new LongPointer(1);
            ints[i] = new IntPointer(cells[i]);
            floats[i] = new FloatPointer(cells[i]);
            params.put(i, cells[i]);
        }
    }

    KernelArgs reset() {
        count = 0;
        return this;
    }

    /** A device pointer, as its address. */
    @Override
    public void ptr(long deviceAddress) {
        cells[next()].put(deviceAddress);
    }

    @Override
    public void i32(int v) {
        ints[next()].put(v);
    }

    @Override
    public void i64(long v) {
        cells[next()].put(v);
    }

    @Override
    public void f32(float v) {
        floats[next()].put(v);
    }

    int count() {
        return count;
    }

    PointerPointer<?> params() {
        return params;
    }

    private int next() {
        if (count == cells.length) {
            throw new IllegalStateException("more than " + cells.length + " kernel arguments");
        }
        return count++;
    }
}
