package io.mtpspark.engine.device;

/**
 * Element types of device buffers: F32, or BF16 as raw 16-bit patterns. {@link #code} is the value kernels take
 * ({@code MTP_F32}/{@code MTP_BF16} in {@code reduce.cuh}).
 */
public enum ElementType {
    F32(4, 0), BF16(2, 1);

    private final int bytes;
    private final int code;

    ElementType(int bytes, int code) {
        this.bytes = bytes;
        this.code = code;
    }

    public int bytes() {
        return bytes;
    }

    public int code() {
        return code;
    }
}
