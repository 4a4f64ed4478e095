package io.mtpspark.engine.cuda;

/**
 * Receives a kernel's arguments in order. {@link KernelArgs} packs them for {@code cuLaunchKernel}; tests collect
 * them to run the same argument lists in the CPU emulator, so the backend's lists are checked against the kernels'
 * signatures without a GPU.
 */
interface ArgSink {
    /** A device pointer, by address (or buffer handle in tests). */
    void ptr(long buffer);

    void i32(int v);

    void f32(float v);

    void i64(long v);
}
