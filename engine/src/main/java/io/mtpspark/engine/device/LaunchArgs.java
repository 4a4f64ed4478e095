package io.mtpspark.engine.device;

/**
 * A kernel's argument list, refilled per launch without allocating: each value is a type tag and 8 bytes (a
 * device pointer or {@code long long} in full, an {@code int} or {@code float} in the low 4 bytes), which is what
 * {@code cuLaunchKernel}'s parameter cells hold and what the emulator checks against the kernel's signature.
 */
public final class LaunchArgs {
    /** Type tags, shared with the emulator's protocol. */
    public static final int POINTER = 0;
    public static final int INT = 1;
    public static final int FLOAT = 2;
    public static final int LONG = 3;

    private final int[] types;
    private final long[] values;
    private int count;

    public LaunchArgs(int max) {
        types = new int[max];
        values = new long[max];
    }

    public LaunchArgs reset() {
        count = 0;
        return this;
    }

    public LaunchArgs ptr(long deviceAddress) {
        return put(POINTER, deviceAddress);
    }

    public LaunchArgs i32(int v) {
        return put(INT, v & 0xffffffffL);
    }

    public LaunchArgs f32(float v) {
        return put(FLOAT, Float.floatToRawIntBits(v) & 0xffffffffL);
    }

    public LaunchArgs i64(long v) {
        return put(LONG, v);
    }

    public int count() {
        return count;
    }

    public int type(int i) {
        return types[i];
    }

    public long value(int i) {
        return values[i];
    }

    private LaunchArgs put(int type, long bits) {
        if (count == types.length) {
            throw new IllegalStateException("more than " + types.length + " kernel arguments");
        }
        types[count] = type;
        values[count++] = bits;
        return this;
    }
}
