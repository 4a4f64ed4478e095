package io.mtpspark.engine.goodput;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.kvcache.SequenceCache;
import io.mtpspark.engine.llama.BlockBatch;
import io.mtpspark.engine.llama.BlockForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.ModelLoader;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.tensor.Backend;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The calibration's second look: a cell timed while the forward was slow for reasons that pass (JIT-cold, a busy
 * neighbour) must not stand, because a bigger forward is never cheaper and {@link CostCalibrator#monotone} would
 * raise every bigger cell to it. The forward here is synthetic (its time is 0.1 ms + 0.4 ms per row, spun on the
 * clock) with a stall on its first forwards of one shape, so the cell of that shape is timed too slow.
 */
class CalibrationRetimingTest {
    private static final int[] ROWS = {1, 2, 3, 9};
    private static final int[] LOGITS = {1, 2, 2, 9};

    @Test
    void aOneRowCellTimedColdIsTimedAgain() {
        // the warm-up's and the first cell's one-row forwards all stall: steady, so the warm-up ends on them (the
        // demo's case: a one-row cell of 13 ms, every block of stories260K priced as one row)
        ForwardCostModel m = CostCalibrator.calibrate("cold-row", new SyntheticForward(1, 5_000_000), null, 2,
                ROWS, LOGITS, 10_000_000_000L);
        double ratio = m.seconds(1, 9) / m.seconds(1, 1);
        // true ratio 3.7 / 0.5 = 7.4; kept cold, the one-row cell (~5.5 ms) is above every block and the ratio is 1
        assertTrue(ratio > 4, "a 9-row block priced at " + ratio + "x one row: " + m);
    }

    @Test
    void aOneRowCellTimedSlowKeepsTheFasterOfTwoTimes() {
        // a stall too small for any bigger cell to undercut (0.9 ms against the 2-row cell's 0.9 ms), yet it prices
        // every block at half its cost relative to one row: the one-row cells are always timed twice
        ForwardCostModel m = CostCalibrator.calibrate("slow-row", new SyntheticForward(1, 400_000), null, 2,
                ROWS, LOGITS, 10_000_000_000L);
        double ratio = m.seconds(1, 9) / m.seconds(1, 1);
        // true ratio 7.4; timed once, 3.7 / 0.9 = 4.1
        assertTrue(ratio > 5.5, "a 9-row block priced at " + ratio + "x one row: " + m);
    }

    @Test
    void aBlockCellThatABiggerOneUndercutsIsTimedAgain() {
        // the forwards of two rows stall until a bigger one runs: the cells of 1 sequence x 2 rows and 2 x 1
        ForwardCostModel m = CostCalibrator.calibrate("cold-block", new SyntheticForward(2, 5_000_000), null, 2, ROWS, LOGITS,
                10_000_000_000L);
        double ratio = m.seconds(1, 2) / m.seconds(1, 1);
        // true ratio 0.9 / 0.5 = 1.8; kept cold, ~6 ms / 0.5 ms
        assertTrue(ratio < 2.5, "a 2-row block priced at " + ratio + "x one row: " + m);
        assertTrue(m.seconds(1, 3) / m.seconds(1, 1) < 3.5, "the 3-row block raised to the slow 2-row time: " + m);
    }

    @Test
    void aBlockCellAboveTheChordOfItsNeighboursIsTimedAgain() {
        // the 17-row forwards stall by 3 ms until another size runs: 9.9 ms against a true 6.9, below the 25-row
        // cell's 10.1 ms (nothing undercuts it) but far above the chord between 9 rows (3.7) and 25 (10.1)
        int[] rows = {1, 9, 17, 25};
        ForwardCostModel m = CostCalibrator.calibrate("slow-17", new SyntheticForward(17, 3_000_000), null, 1, rows,
                rows, 10_000_000_000L);
        double ratio = m.seconds(1, 17) / m.seconds(1, 9);
        // true ratio 6.9 / 3.7 = 1.86; kept slow, 9.9 / 3.7 = 2.7
        assertTrue(ratio < 2.2, "a 17-row block priced at " + ratio + "x the 9-row one: " + m);
    }

    /**
     * The chord test on a real calibration (the dim-1024 model, one sequence, 2 threads, Zen 3; docs/BENCHMARKS.md,
     * issue 12): the few-row cells rise less and less per row (the weights' reads dominate) and stay within 10% of
     * their chords; only the 17-row cell, timed about as dear as the 25-row one, is above its chord.
     */
    @Test
    void onARealCalibrationOnlyTheCellTimedSlowIsAboveItsChord() {
        int[] rows = {1, 2, 3, 4, 5, 9, 17, 25, 81};
        double[][] ms = {{22.099, 26.585, 30.799, 33.71, 35.341, 41.049, 81.101, 84.083, 234.849}};
        for (int j = 0; j < rows.length; j++) {
            assertEquals(rows[j] == 17, CostCalibrator.aboveChord(ms, rows, 0, j), rows[j] + "-row cell");
        }
        ms[0][6] = 62.0; // as dear as the chord says
        for (int j = 0; j < rows.length; j++) {
            assertFalse(CostCalibrator.aboveChord(ms, rows, 0, j), rows[j] + "-row cell");
        }
        assertFalse(CostCalibrator.aboveChord(new double[][]{{1.0, 9.0, Double.NaN}}, new int[]{1, 2, 3}, 0, 1),
                "no bigger measured neighbour, no chord");
    }

    /**
     * A forward whose time depends only on its total rows, except that from its first forward of {@code stallRows}
     * rows until a forward of another size runs, each takes {@code stallNanos} more (a forward compiled for one shape
     * late, or a neighbour busy for a while).
     */
    private static final class SyntheticForward implements BlockForward {
        private static final LlamaModel MODEL = ModelLoader.load(TestModels.storiesBin());
        private final int stallRows;
        private final long stallNanos;
        private int phase; // 0 before the stall, 1 stalling, 2 after it

        SyntheticForward(int stallRows, long stallNanos) {
            this.stallRows = stallRows;
            this.stallNanos = stallNanos;
        }

        @Override
        public void forward(BlockBatch batch, MtpAdapter adapter) {
            long nanos = 100_000L + 400_000L * batch.rows();
            if (batch.rows() == stallRows && phase < 2) {
                phase = 1;
                nanos += stallNanos;
            } else if (phase == 1) {
                phase = 2;
            }
            long end = System.nanoTime() + nanos;
            while (System.nanoTime() < end) {
                Thread.onSpinWait();
            }
            for (int s = 0; s < batch.segments(); s++) {
                Cache c = (Cache) batch.cache(s);
                int rows = batch.segmentStart(s + 1) - batch.segmentStart(s);
                c.length += rows;
            }
        }

        @Override
        public LlamaModel model() {
            return MODEL;
        }

        @Override
        public Backend backend() {
            return null;
        }

        @Override
        public int maxRows() {
            return 64;
        }

        @Override
        public int maxContext() {
            return 1024;
        }

        @Override
        public int maxLogitRows() {
            return 64;
        }

        @Override
        public SequenceCache newCache(int capacity) {
            return new Cache(capacity);
        }

        @Override
        public float[] hidden() {
            return new float[0];
        }

        @Override
        public float[] logits() {
            return new float[0];
        }
    }

    private static final class Cache implements SequenceCache {
        private final int capacity;
        int length;

        Cache(int capacity) {
            this.capacity = capacity;
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public int capacity() {
            return capacity;
        }

        @Override
        public void truncate(int newLength) {
            length = Math.min(length, newLength);
        }

        @Override
        public void compact(int blockStart, int[] keep, int count) {
            length = blockStart + count;
        }
    }
}
