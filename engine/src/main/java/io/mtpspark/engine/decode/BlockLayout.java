package io.mtpspark.engine.decode;

/**
 * How one step's block is laid out: one row per step ({@link #AUTOREGRESSIVE}), the paper's linear block
 * {@code [r_0, drafts, masks]} ({@link #LINEAR}, spec §5.2) or the quadratic block of d+1 groups
 * {@code [r_g, masks]} ({@link #QUADRATIC}, spec §5.3).
 */
public enum BlockLayout {
    AUTOREGRESSIVE("autoregressive"), LINEAR("linear"), QUADRATIC("quadratic");

    private final String label;

    BlockLayout(String label) {
        this.label = label;
    }

    /** The name the CLI and the job use for a fixed decoder of this layout. */
    public String label() {
        return label;
    }

    /** Rows of a block with {@code d} drafts and {@code m} masks (per group). */
    public int rows(int d, int m) {
        return switch (this) {
            case AUTOREGRESSIVE -> 1;
            case LINEAR -> d + 1 + m;
            case QUADRATIC -> (d + 1) * (m + 1);
        };
    }

    public static BlockLayout of(String label) {
        for (BlockLayout l : values()) {
            if (l.label.equals(label)) {
                return l;
            }
        }
        throw new IllegalArgumentException("no block layout \"" + label + "\"");
    }
}
