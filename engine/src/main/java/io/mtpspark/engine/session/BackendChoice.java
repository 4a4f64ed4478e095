package io.mtpspark.engine.session;

import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.engine.tensor.ScalarBackend;

/**
 * The {@code --backend} option: {@code auto} (the best available; the CPU backend until a GPU backend exists),
 * {@code cpu} (SIMD + threads) or {@code scalar} (the single-threaded reference oracle).
 */
public enum BackendChoice {
    AUTO, CPU, SCALAR;

    public static BackendChoice parse(String s) {
        for (BackendChoice b : values()) {
            if (b.name().equalsIgnoreCase(s)) {
                return b;
            }
        }
        throw new IllegalArgumentException("--backend: expected auto, cpu or scalar, got \"" + s + "\"");
    }

    /** Creates a backend; {@code threads <= 0} means one per available processor. */
    public Backend create(int threads) {
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        return switch (this) {
            case AUTO, CPU -> new CpuBackend(t);
            case SCALAR -> new ScalarBackend();
        };
    }
}
