package io.mtpspark.engine.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * A plain-text table for the console: a header row, then rows of cells; the first {@code leftColumns} columns
 * (names) are left-aligned, the others right-aligned (numbers), each as wide as its widest cell.
 */
final class TextTable {
    private final List<String[]> rows = new ArrayList<>();
    private final int leftColumns;

    TextTable(int leftColumns, String... header) {
        this.leftColumns = leftColumns;
        rows.add(header);
    }

    TextTable row(String... cells) {
        if (cells.length != rows.get(0).length) {
            throw new IllegalArgumentException("row of " + cells.length + " cells in a table of "
                    + rows.get(0).length + " columns");
        }
        rows.add(cells);
        return this;
    }

    String render() {
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int c = 0; c < r.length; c++) {
                width[c] = Math.max(width[c], r[c].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < r.length; c++) {
                String pad = " ".repeat(width[c] - r[c].length());
                line.append(c == 0 ? "" : "  ").append(c < leftColumns ? r[c] + pad : pad + r[c]);
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }
}
