package io.mtpspark.engine.cuda;

import java.util.ArrayList;
import java.util.List;

/** A kernel's argument list in tests, independent of where it runs (GPU or the CPU emulator). */
final class TestArgs {
    enum Type { BUFFER, INT, FLOAT, LONG }

    record Value(Type type, long bits) {
    }

    final List<Value> values = new ArrayList<>();

    TestArgs ptr(long buffer) {
        values.add(new Value(Type.BUFFER, buffer));
        return this;
    }

    TestArgs i32(int v) {
        values.add(new Value(Type.INT, v));
        return this;
    }

    TestArgs f32(float v) {
        values.add(new Value(Type.FLOAT, Float.floatToRawIntBits(v)));
        return this;
    }

    TestArgs i64(long v) {
        values.add(new Value(Type.LONG, v));
        return this;
    }
}
