package io.mtpspark.engine.goodput;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Arrays;

/**
 * Measured wall time of one forward pass as a function of the number of sequences in it and the rows each sends
 * (the block shapes decoders produce), on one backend. Between measured points it interpolates in log-log space.
 * Cells the calibration budget did not reach ({@code NaN}) follow the growth in total rows that a smaller sequence
 * count measured (see {@code inRow}); beyond every measurement time scales linearly with rows and sequences (the
 * compute-bound limit, which never flatters a bigger block).
 *
 * @param key      what it was measured on: model fingerprint, backend, device
 * @param sequences measured sequence counts, ascending
 * @param rows      measured rows per sequence, ascending
 * @param seconds   {@code seconds[i][j]}: one forward of {@code sequences[i]} sequences × {@code rows[j]} rows
 * @param calibrationMillis wall time the calibration took
 */
public record ForwardCostModel(String key, int[] sequences, int[] rows, double[][] seconds, double calibrationMillis) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public ForwardCostModel {
        if (sequences.length == 0 || rows.length == 0 || seconds.length != sequences.length) {
            throw new IllegalArgumentException("empty or inconsistent cost table");
        }
        for (double[] row : seconds) {
            if (row.length != rows.length) {
                throw new IllegalArgumentException("cost table row of " + row.length + " cells for " + rows.length
                        + " row counts");
            }
        }
        if (Double.isNaN(seconds[0][0])) {
            throw new IllegalArgumentException("the cost of one sequence's single row must be measured");
        }
    }

    /** A table from a function (synthetic cost shapes in tests). */
    public static ForwardCostModel of(String key, int[] sequences, int[] rows, CostFunction f) {
        double[][] s = new double[sequences.length][rows.length];
        for (int i = 0; i < sequences.length; i++) {
            for (int j = 0; j < rows.length; j++) {
                s[i][j] = f.seconds(sequences[i], rows[j]);
            }
        }
        return new ForwardCostModel(key, sequences, rows, s, 0);
    }

    /** Seconds of a forward as a function of sequences and rows per sequence. */
    @FunctionalInterface
    public interface CostFunction {
        double seconds(int sequences, int rowsPerSequence);
    }

    /** Predicted seconds of one forward of {@code n} sequences with {@code r} rows each (r may be a mean). */
    public double seconds(int n, double r) {
        int lo = 0; // largest measured sequence count <= n (row 0, one sequence, is always measured)
        int hi = -1; // smallest measured sequence count >= n
        for (int i = 0; i < sequences.length; i++) {
            if (Double.isNaN(seconds[i][0])) {
                continue;
            }
            if (sequences[i] <= n) {
                lo = i;
            }
            if (sequences[i] >= n && hi < 0) {
                hi = i;
            }
        }
        double tLo = inRow(lo, r);
        if (sequences[lo] == n) {
            return tLo;
        }
        if (hi < 0 || sequences[lo] > n) {
            return tLo * n / sequences[lo];
        }
        double tHi = inRow(hi, r);
        double f = (Math.log(n) - Math.log(sequences[lo])) / (Math.log(sequences[hi]) - Math.log(sequences[lo]));
        return Math.exp(Math.log(tLo) + f * (Math.log(tHi) - Math.log(tLo)));
    }

    /** Time of {@code r} rows per sequence relative to one row, at {@code n} sequences. */
    public double relative(int n, double r) {
        return seconds(n, r) / seconds(n, 1);
    }

    /**
     * Seconds at sequence row i for r rows per sequence: log-log between measured cells. Beyond the row's last
     * measured cell, the forward grows as a smaller sequence count measured further says the same growth in total
     * rows costs (a forward reads the weights once whatever sequences its rows belong to, and n sequences of r rows
     * attend about as much as one of n·r rows); linear in rows beyond any measurement. A budget that stops before a
     * large batch's blocks are timed then prices them from one sequence's bigger blocks: linear scaling alone would
     * price a memory-bound backend's 3-row block at three rows.
     */
    private double inRow(int i, double r) {
        int last = lastMeasured(i);
        if (r <= rows[last]) {
            return measuredRow(i, r);
        }
        double from = (double) sequences[i] * rows[last];
        double to = sequences[i] * r;
        int ref = -1;
        double reach = from;
        for (int a = 0; a < sequences.length; a++) {
            if (a != i && sequences[a] <= sequences[i] && !Double.isNaN(seconds[a][0])) {
                double ra = (double) sequences[a] * rows[lastMeasured(a)];
                if (ra > reach) {
                    ref = a;
                    reach = ra;
                }
            }
        }
        if (ref < 0) {
            return seconds[i][last] * r / rows[last];
        }
        double mid = Math.min(to, reach);
        double growth = measuredRow(ref, mid / sequences[ref]) / measuredRow(ref, from / sequences[ref]);
        return seconds[i][last] * growth * (to / mid);
    }

    /** The last measured row shape of sequence row i (its first, one row, is measured whenever the row is used). */
    private int lastMeasured(int i) {
        int last = 0;
        for (int j = 0; j < rows.length; j++) {
            if (!Double.isNaN(seconds[i][j])) {
                last = j;
            }
        }
        return last;
    }

    /** Log-log interpolation between the measured cells of sequence row i, for rows[0] <= r <= its last measured. */
    private double measuredRow(int i, double r) {
        double[] t = seconds[i];
        if (r <= rows[0]) {
            return t[0];
        }
        int lo = 0;
        for (int j = 1; j < rows.length; j++) {
            if (Double.isNaN(t[j])) {
                continue;
            }
            if (rows[j] >= r) {
                double f = (Math.log(r) - Math.log(rows[lo])) / (Math.log(rows[j]) - Math.log(rows[lo]));
                return Math.exp(Math.log(t[lo]) + f * (Math.log(t[j]) - Math.log(t[lo])));
            }
            lo = j;
        }
        return t[lo];
    }

    /** The table as JSON (milliseconds, {@code null} where unmeasured), for manifests and task statistics. */
    public String toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("key", key);
        n.put("calibration_ms", Math.round(calibrationMillis * 10) / 10.0);
        ArrayNode s = n.putArray("sequences");
        Arrays.stream(sequences).forEach(s::add);
        ArrayNode r = n.putArray("rows_per_sequence");
        Arrays.stream(rows).forEach(r::add);
        ArrayNode ms = n.putArray("forward_ms");
        for (double[] row : seconds) {
            ArrayNode a = ms.addArray();
            for (double v : row) {
                if (Double.isNaN(v)) {
                    a.addNull();
                } else {
                    a.add(Math.round(v * 1e6) / 1e3);
                }
            }
        }
        return n.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ForwardCostModel m && key.equals(m.key) && Arrays.equals(sequences, m.sequences)
                && Arrays.equals(rows, m.rows) && Arrays.deepEquals(seconds, m.seconds);
    }

    @Override
    public int hashCode() {
        return key.hashCode() * 31 + Arrays.deepHashCode(seconds);
    }

    @Override
    public String toString() {
        return toJson();
    }
}
