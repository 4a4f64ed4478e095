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

    /** This list as the sink the backend's argument builders write to. */
    ArgSink sink() {
        return new ArgSink() {
            @Override
            public void ptr(long buffer) {
                TestArgs.this.ptr(buffer);
            }

            @Override
            public void i32(int v) {
                TestArgs.this.i32(v);
            }

            @Override
            public void f32(float v) {
                TestArgs.this.f32(v);
            }

            @Override
            public void i64(long v) {
                TestArgs.this.i64(v);
            }
        };
    }
}
