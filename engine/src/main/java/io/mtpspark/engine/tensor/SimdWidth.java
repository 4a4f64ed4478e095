package io.mtpspark.engine.tensor;

import java.util.logging.Logger;

/**
 * How many float lanes the CPU kernels' vectors hold: the machine's preferred width, or fewer. The width is a
 * constant of the compiled kernels, so it is fixed once per JVM, when the kernels are first used; before that,
 * {@code -Dmtp.simd.lanes=N} (a power of two, at least 4) caps it, and else loading a model whose attention heads
 * are narrower than a vector caps it at the head ({@link #fitHeadDim}, at least 8 lanes). The reason: attention works
 * a head at a time, and a head of 8 in a 16-lane vector wastes half of every load and add; on stories260K (heads of
 * 8) on an AVX-512 host, 8 lanes decoded about 21k tokens/s against 16k with 16, and its 9-row blocks ran 25% faster
 * (docs/BENCHMARKS.md, sitting of 2026-12-04). Models with heads of 64 or 128 keep the full width, which their large
 * matmuls need. Results depend on the width (it fixes the order of each sum), so they are exact within one JVM,
 * which is what exactness promises.
 */
public final class SimdWidth {
    /** The system property that caps the lanes. */
    public static final String PROPERTY = "mtp.simd.lanes";
    private static final Logger LOG = Logger.getLogger(SimdWidth.class.getName());
    private static int headCap = Integer.MAX_VALUE;
    private static int chosen;
    private static boolean warned;

    private SimdWidth() {
    }

    /**
     * Caps the width at {@code headDim} lanes (rounded down to a power of two, at least 8) if the kernels have not
     * fixed it yet and no {@link #PROPERTY} is set (a bad one is an IllegalArgumentException); otherwise, if the
     * fixed width is wider, says once how to get the narrower one.
     */
    public static synchronized void fitHeadDim(int headDim) {
        if (System.getProperty(PROPERTY) != null) {
            checkProperty(); // a bad value fails here, at load, not in the kernels' initialiser
            return;
        }
        int cap = capFor(headDim);
        if (chosen == 0) {
            headCap = Math.min(headCap, cap);
        } else if (chosen > cap && !warned) {
            warned = true;
            LOG.info("the CPU kernels already run " + chosen + " float lanes in this JVM; heads of " + headDim
                    + " run faster at " + cap + " (-D" + PROPERTY + "=" + cap + " at JVM start)");
        }
    }

    /**
     * Whether the JVM was started with the {@code jdk.incubator.vector} module, without which the kernels run on
     * scalar loops. Asking this does not fix the width (it touches no vector class).
     */
    public static boolean vectorModulePresent() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /**
     * Checks {@link #PROPERTY} up front, so that a bad value is a one-line error of the CLI or job rather than a
     * failed class initialiser at the first matmul.
     */
    public static void checkProperty() {
        String p = System.getProperty(PROPERTY);
        if (p != null) {
            parseLanes(p);
        }
    }

    /** The lanes the kernels use, given the machine's preferred count; called once, as the kernels initialise. */
    static synchronized int fix(int preferred) {
        String p = System.getProperty(PROPERTY);
        chosen = Math.min(preferred, p != null ? parseLanes(p) : headCap);
        return chosen;
    }

    /** The cap a head of {@code headDim} asks for: its size rounded down to a power of two, at least 8 lanes. */
    static int capFor(int headDim) {
        return Math.max(8, Integer.highestOneBit(Math.max(1, headDim)));
    }

    /** The value of {@link #PROPERTY}: a power of two of at least 4, or an error that names the property. */
    static int parseLanes(String value) {
        int lanes;
        try {
            lanes = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            lanes = -1;
        }
        if (lanes < 4 || Integer.bitCount(lanes) != 1) {
            throw new IllegalArgumentException("-D" + PROPERTY + ": expected a power of two of at least 4, got \""
                    + value + "\"");
        }
        return lanes;
    }
}
