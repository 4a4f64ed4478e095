package io.mtpspark.engine.decode;

import java.util.ArrayList;
import java.util.List;

/**
 * One decoder configuration a step can run: a layout and its mask count k (0 for autoregressive). {@link #label()}
 * ("quadratic k=8") is how statistics, manifests and the adapter's acceptance table name it.
 */
public record DecodeConfig(BlockLayout layout, int k) {
    public static final DecodeConfig AUTOREGRESSIVE = new DecodeConfig(BlockLayout.AUTOREGRESSIVE, 0);

    public DecodeConfig {
        if (layout == BlockLayout.AUTOREGRESSIVE ? k != 0 : k < 1) {
            throw new IllegalArgumentException(layout.label() + " needs k " + (k < 1 ? ">= 1" : "= 0") + ", got " + k);
        }
    }

    public static DecodeConfig of(String layout, int k) {
        BlockLayout l = BlockLayout.of(layout);
        return l == BlockLayout.AUTOREGRESSIVE ? AUTOREGRESSIVE : new DecodeConfig(l, k);
    }

    /** Parses a {@link #label()}. */
    public static DecodeConfig parse(String label) {
        int at = label.indexOf(" k=");
        if (at < 0) {
            return of(label, 0);
        }
        return of(label.substring(0, at), Integer.parseInt(label.substring(at + 3)));
    }

    public boolean autoregressive() {
        return layout == BlockLayout.AUTOREGRESSIVE;
    }

    /** Rows of the largest block this configuration sends (k drafts and k masks). */
    public int fullRows() {
        return layout.rows(k, k);
    }

    public String label() {
        return autoregressive() ? layout.label() : layout.label() + " k=" + k;
    }

    @Override
    public String toString() {
        return label();
    }

    /** Autoregressive, then linear and quadratic for each k in {@code ks} (ascending), that fit {@code maxRows}. */
    public static List<DecodeConfig> candidates(List<Integer> ks, int maxRows) {
        List<DecodeConfig> out = new ArrayList<>();
        out.add(AUTOREGRESSIVE);
        for (BlockLayout l : new BlockLayout[]{BlockLayout.LINEAR, BlockLayout.QUADRATIC}) {
            for (int k : ks) {
                DecodeConfig c = new DecodeConfig(l, k);
                if (c.fullRows() <= maxRows) {
                    out.add(c);
                }
            }
        }
        return out;
    }
}
