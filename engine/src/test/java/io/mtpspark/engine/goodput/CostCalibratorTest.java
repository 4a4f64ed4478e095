package io.mtpspark.engine.goodput;

import io.mtpspark.engine.TestModels;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.tensor.CpuBackend;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Calibration pruning: where no configuration could bring more than one token per pass, no block bigger than the
 * first multi-row one is worth measuring, and the 81-row cell is left to extrapolation; without that bound every
 * cell is measured.
 */
class CostCalibratorTest {
    @Test
    void blocksThatCannotPayForThemselvesAreNotMeasured() {
        // loaded as the engine serves it (small F32 models on the heap): the mapped checkpoint's 2- and 3-row inputs
        // take the one-row buffer kernel per row while 4+ rows take the panels, so there a 3-row block at 2 sequences
        // (6 rows) can cost barely more than 1 row each (2 rows), which is right to measure but not this test's case
        LlamaModel model = io.mtpspark.engine.model.ModelLoader.load(TestModels.storiesBin());
        MtpAdapter adapter = MtpAdapter.random(model, 8, 4, 1);
        LlamaForward forward = new LlamaForward(model, new CpuBackend(1), 2 * 81, 256, 2 * 9);
        // warm the JIT first, as auto does by decoding autoregressively before it calibrates
        new io.mtpspark.engine.decode.AutoregressiveDecoder(forward).generate(new int[]{1, 403}, 200,
                io.mtpspark.engine.sampling.SamplingOptions.GREEDY);
        int[] rows = {1, 2, 3, 81};
        int[] logits = {1, 2, 2, 9};
        ForwardCostModel all = CostCalibrator.calibrate("all", forward, adapter, 2, rows, logits, null,
                10_000_000_000L);
        for (int i = 0; i < all.sequences().length; i++) {
            assertFalse(Double.isNaN(all.seconds()[i][3]), "without a bound the 81-row cell is measured: " + all);
        }
        // nothing can gain: the first multi-row block that costs 1.25x one row ends the row. At one sequence a 2-row
        // block of this compute-bound model always does; at two, the 1-row cell (two rows) can cost almost what six
        // do when per-forward overhead dominates (a JVM whose call sites other tests made megamorphic), and then
        // measuring on is right, so there the test checks the rule's direction only
        ForwardCostModel pruned = CostCalibrator.calibrate("pruned", forward, adapter, 2, rows, logits,
                new double[]{1, 1, 1, 1}, 10_000_000_000L);
        assertTrue(Double.isNaN(pruned.seconds()[0][3]), "81 rows measured although nothing can gain: " + pruned);
        for (int i = 0; i < pruned.sequences().length; i++) {
            double[] s = pruned.seconds()[i];
            if (Double.isNaN(s[3])) {
                assertTrue(s[1] > 1.25 * s[0] || Double.isNaN(s[2]) || s[2] > 1.25 * s[0],
                        "pruned although every block was cheap: " + pruned);
                assertTrue(pruned.seconds(pruned.sequences()[i], 81) > 20 * pruned.seconds(pruned.sequences()[i], 1),
                        "extrapolated as dear: " + pruned);
            }
        }
    }
}
