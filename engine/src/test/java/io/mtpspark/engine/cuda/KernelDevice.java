package io.mtpspark.engine.cuda;

/**
 * Where kernel tests run their kernels: the GPU ({@link DeviceHarness}) or the CPU emulator
 * ({@link EmulatedDevice}). Buffers are opaque handles; copies are synchronous.
 */
interface KernelDevice extends AutoCloseable {
    long floats(float[] a);

    long ints(int[] a);

    long bytes(boolean[] a);

    float[] readFloats(long buffer, int n);

    int[] readInts(long buffer, int n);

    /** A fresh argument list for the next {@link #launch}. */
    TestArgs args();

    void launch(String entry, int gridX, int gridY, int block);

    @Override
    void close();
}
