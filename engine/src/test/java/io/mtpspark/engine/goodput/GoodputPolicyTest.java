package io.mtpspark.engine.goodput;

import io.mtpspark.engine.decode.BlockLayout;
import io.mtpspark.engine.decode.DecodeConfig;
import io.mtpspark.engine.mtp.AcceptanceTable;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The policy against brute force, without timing: synthetic forward costs (compute-bound, memory-bound,
 * launch-bound) and synthetic acceptance (prefix acceptance with per-position survival), every fixed configuration
 * simulated step by step at each batch size; the configuration the policy picks must reach at least 97% of the
 * best simulated tokens/s, and the picks must differ between shapes (so the test cannot pass by always answering
 * the same).
 */
class GoodputPolicyTest {
    private static final int[] SEQUENCES = {1, 2, 4, 8, 16, 32, 64};
    private static final int[] ROWS = {1, 2, 3, 4, 5, 9, 17, 25, 81};
    private static final List<DecodeConfig> CONFIGS = DecodeConfig.candidates(List.of(1, 2, 4, 8), 81);

    /** Time grows with all rows from the first: a CPU on a small model. */
    private static final ForwardCostModel COMPUTE = ForwardCostModel.of("compute", SEQUENCES, ROWS,
            (n, r) -> 1e-5 + 2e-5 * n * r);
    /** Weights dominate until ~150 rows in all: a GPU on a big model. */
    private static final ForwardCostModel MEMORY = ForwardCostModel.of("memory", SEQUENCES, ROWS,
            (n, r) -> 2e-2 * Math.max(1, n * r / 150.0) + 1e-5 * n * r);
    /** A fixed launch cost per forward, then compute: a GPU on a tiny model. */
    private static final ForwardCostModel LAUNCH = ForwardCostModel.of("launch", SEQUENCES, ROWS,
            (n, r) -> 1e-3 + 1e-6 * n * r);

    @Test
    void policyMatchesBruteForceOnSyntheticCosts() {
        Set<String> picks = new HashSet<>();
        for (double decay : new double[]{0.85, 0.35}) {
            double[] survival = survival(decay);
            AcceptanceTable table = tableBySimulation(survival);
            for (ForwardCostModel cost : List.of(COMPUTE, MEMORY, LAUNCH)) {
                GoodputPolicy policy = new GoodputPolicy(CONFIGS, table, cost);
                for (int n : new int[]{1, 4, 16, 64}) {
                    double best = 0;
                    String bestLabel = null;
                    double[] simulated = new double[CONFIGS.size()];
                    for (int i = 0; i < CONFIGS.size(); i++) {
                        simulated[i] = simulate(CONFIGS.get(i), n, survival, cost, 3000, 11 + i);
                        if (simulated[i] > best) {
                            best = simulated[i];
                            bestLabel = CONFIGS.get(i).label();
                        }
                    }
                    int choice = policy.choose(n, n);
                    String what = cost.key() + ", survival decay " + decay + ", " + n + " sequences: policy "
                            + CONFIGS.get(choice).label() + " " + Math.round(simulated[choice]) + " tokens/s, best "
                            + bestLabel + " " + Math.round(best);
                    assertTrue(simulated[choice] >= 0.97 * best, what);
                    picks.add(CONFIGS.get(choice).label());
                }
            }
        }
        assertTrue(picks.size() >= 3 && picks.contains("autoregressive"), "picks: " + picks);
    }

    @Test
    void memoryBoundAtBatchOnePicksQuadraticAndComputeBoundAtLargeBatchPicksAutoregressive() {
        AcceptanceTable table = tableBySimulation(survival(0.85));
        assertEquals("quadratic k=8", CONFIGS.get(new GoodputPolicy(CONFIGS, table, MEMORY).choose(1, 1)).label());
        assertEquals("autoregressive", CONFIGS.get(new GoodputPolicy(CONFIGS, table, COMPUTE).choose(64, 64))
                .label());
        // a stream that accepts far less than the prior (ratio 0.02 per sequence) turns memory-bound MTP off
        GoodputPolicy memory = new GoodputPolicy(CONFIGS, tableBySimulation(survival(0.35)), MEMORY);
        assertTrue(!CONFIGS.get(memory.choose(16, 16)).autoregressive());
        assertEquals("autoregressive", CONFIGS.get(memory.choose(16, 16 * 0.02)).label());
    }

    /**
     * A calibration that flatters MTP (it measured a memory-bound shape) on a backend that is really compute-bound,
     * with ±25% noise on every measured step: the policy may try what the calibration promises, but only for a few
     * steps each, and then decodes with what the brute force finds best under the true costs.
     */
    @Test
    void measuredStepCostsOverrideAFlatteringCalibration() {
        double[] survival = survival(0.85);
        AcceptanceTable table = tableBySimulation(survival);
        int n = 16;
        int best = bestUnder(COMPUTE, n, survival);
        assertEquals("autoregressive", CONFIGS.get(best).label(), "the true optimum of this case");
        GoodputPolicy policy = new GoodputPolicy(CONFIGS, table, MEMORY);
        assertTrue(!CONFIGS.get(policy.choose(n, n)).autoregressive(), "the calibration alone picks MTP");
        int[] steps = runWithObservedCosts(policy, COMPUTE, n, 400, 5);
        int elsewhere = 0;
        for (int i = 0; i < CONFIGS.size(); i++) {
            elsewhere += i == best ? 0 : steps[i];
        }
        assertTrue(elsewhere <= 3 * CONFIGS.size(), elsewhere + " of 400 steps away from the optimum");
        assertEquals(best, policy.choose(n, n), "the choice after the run");
    }

    /**
     * The other way round: a calibration that makes MTP look dear where it is cheap is not trusted blindly either
     * once MTP has run; with a noisy calibration of the true (memory-bound) shape, the choice stays at the optimum.
     */
    @Test
    void noisyCalibrationStillConvergesToTheOptimum() {
        double[] survival = survival(0.85);
        AcceptanceTable table = tableBySimulation(survival);
        SplittableRandom rng = new SplittableRandom(7);
        for (ForwardCostModel truth : List.of(COMPUTE, MEMORY, LAUNCH)) {
            for (int n : new int[]{1, 16}) {
                // every calibrated cell off by up to ±40%, independently
                ForwardCostModel noisy = ForwardCostModel.of(truth.key() + "-noisy", SEQUENCES, ROWS,
                        (s, r) -> truth.seconds(s, r) * (0.6 + 0.8 * rng.nextDouble()));
                GoodputPolicy policy = new GoodputPolicy(CONFIGS, table, noisy);
                runWithObservedCosts(policy, truth, n, 400, 11);
                int best = bestUnder(truth, n, survival);
                int choice = policy.choose(n, n);
                String what = truth.key() + " at " + n + ": chose " + CONFIGS.get(choice).label() + ", best "
                        + CONFIGS.get(best).label();
                assertTrue(simulate(CONFIGS.get(choice), n, survival, truth, 3000, 1)
                        >= 0.95 * simulate(CONFIGS.get(best), n, survival, truth, 3000, 1), what);
            }
        }
    }

    /**
     * A calibration its budget cut short, on a CPU-like memory-bound model (one row's weights cost as much as 12
     * rows' arithmetic): at one sequence MTP wins, at 16 autoregressive does. The calibrator measures cells by total
     * rows, so the cut leaves out the biggest forwards of every sequence count and the 16-sequence row cost is
     * measured; measured one sequence at a time instead, the 16-sequence cells would all be scaled from one
     * sequence's cheap blocks, every MTP block would look affordable at 16 sequences, and the run would try one
     * after another. The policy must spend no more steps on clearly slower configurations than its first
     * autoregressive steps and its exploration budget allow.
     */
    @Test
    void aCalibrationCutShortByItsBudgetStillKnowsTheBatchsCost() {
        ForwardCostModel truth = ForwardCostModel.of("cpu-memory", SEQUENCES, ROWS,
                (n, r) -> 2e-2 * Math.max(1, n * r / 12.0));
        double[][] seconds = new double[SEQUENCES.length][ROWS.length];
        for (double[] row : seconds) {
            java.util.Arrays.fill(row, Double.NaN);
        }
        double spent = 0;
        for (int[] cell : CostCalibrator.byTotalRows(SEQUENCES, ROWS)) {
            double t = truth.seconds(SEQUENCES[cell[0]], ROWS[cell[1]]);
            seconds[cell[0]][cell[1]] = t;
            spent += 4 * t; // a warm-up and three timed forwards per cell
            if (spent > 2.0) {
                break;
            }
        }
        ForwardCostModel cut = new ForwardCostModel("cut", SEQUENCES, ROWS, seconds, 2000);
        double[] survival = survival(0.85);
        AcceptanceTable table = tableBySimulation(survival);
        for (int n : new int[]{1, 16}) {
            int best = bestUnder(truth, n, survival);
            assertEquals(n == 1, !CONFIGS.get(best).autoregressive(), "the true optimum at " + n + ": "
                    + CONFIGS.get(best).label());
            GoodputPolicy policy = new GoodputPolicy(CONFIGS, table, cut);
            int[] steps = runWithObservedCosts(policy, truth, n, 60, 3); // about one benchmark round
            double bestRate = simulate(CONFIGS.get(best), n, survival, truth, 3000, 1);
            int wasted = 0; // steps on configurations clearly slower than the optimum (near-ties cost nothing)
            for (int i = 0; i < CONFIGS.size(); i++) {
                wasted += simulate(CONFIGS.get(i), n, survival, truth, 3000, 1) < 0.9 * bestRate ? steps[i] : 0;
            }
            String what = n + " sequences, calibrated " + cut + ": steps " + java.util.Arrays.toString(steps);
            // autoregressive's first steps, then exploration within its budget (and the trial that crosses it)
            int allowed = (int) (2 * GoodputPolicy.MIN_OBSERVATIONS + GoodputPolicy.EXPLORE_BUDGET * 60);
            assertTrue(wasted <= allowed, wasted + " of 60 steps on clearly slower configurations; " + what);
            assertTrue(simulate(CONFIGS.get(policy.choose(n, n)), n, survival, truth, 3000, 1)
                    >= 0.97 * simulate(CONFIGS.get(best), n, survival, truth, 3000, 1), what);
        }
    }

    /**
     * Exploration is budgeted in time, not steps: a near contender whose step costs five autoregressive steps (an
     * 81-row block at 93% of autoregressive decoding's rate) is not tried in a short run, where three of its steps
     * would take a fifth of the time, but is tried in a long one.
     */
    @Test
    void explorationTakesAtMostItsShareOfTheTime() {
        AcceptanceTable table = tableBySimulation(survival(0.85));
        ForwardCostModel cost = quadratic8At(0.93, table);
        int near = index("quadratic k=8");
        GoodputPolicy shortRun = new GoodputPolicy(CONFIGS, table, cost);
        int[] steps = runWithObservedCosts(shortRun, cost, 1, 100, 5);
        double total = 0;
        for (int i = 0; i < CONFIGS.size(); i++) {
            total += steps[i] * cost.seconds(1, shortRun.rowsPerPass(i));
        }
        double share = steps[near] * cost.seconds(1, 81) / total;
        assertTrue(share <= GoodputPolicy.EXPLORE_BUDGET, "exploration took " + share + " of the time: "
                + java.util.Arrays.toString(steps));
        GoodputPolicy longRun = new GoodputPolicy(CONFIGS, table, cost);
        runWithObservedCosts(longRun, cost, 1, 2000, 5);
        assertTrue(longRun.observations(near) >= GoodputPolicy.MIN_OBSERVATIONS, "tried in a long run");
    }

    /**
     * A contender that truly wins by 10% but whose first three measured steps were slow (a busy neighbour) looks
     * 4% worse than autoregressive decoding: still a near contender, so it is tried again within the exploration
     * budget, and the run ends on it.
     */
    @Test
    void aNearContenderUnluckyInItsFirstStepsIsTriedAgain() {
        AcceptanceTable table = tableBySimulation(survival(0.85));
        ForwardCostModel cost = quadratic8At(1.10, table);
        int winner = index("quadratic k=8");
        GoodputPolicy policy = new GoodputPolicy(CONFIGS, table, cost);
        int unlucky = 0;
        for (int step = 0; step < 2000; step++) {
            int c = policy.choose(1, 1);
            double seconds = cost.seconds(1, policy.rowsPerPass(c));
            if (c == winner && unlucky < GoodputPolicy.MIN_OBSERVATIONS) {
                unlucky++;
                seconds *= 1.15;
            }
            policy.observeStep(c, 1, Math.round(seconds * 1e9));
        }
        assertEquals(GoodputPolicy.MIN_OBSERVATIONS, unlucky, "the winner ran its first steps");
        assertEquals(winner, policy.choose(1, 1), "tried again after its unlucky start; observations "
                + policy.observations(winner));
    }

    /**
     * Costs under which quadratic k=8 runs at {@code rate} times autoregressive decoding's tokens/s at any batch
     * (its 81-row block costing its tokens per pass ÷ rate rows) and every other block is far dearer.
     */
    private static ForwardCostModel quadratic8At(double rate, AcceptanceTable table) {
        double tokens = table.tokens("quadratic k=8");
        return ForwardCostModel.of("quadratic k=8 at " + rate, SEQUENCES, ROWS,
                (n, r) -> n * 1e-3 * (r == 1 ? 1 : r == 81 ? tokens / rate : 10.0 * r));
    }

    private static int index(String label) {
        for (int i = 0; i < CONFIGS.size(); i++) {
            if (CONFIGS.get(i).label().equals(label)) {
                return i;
            }
        }
        throw new IllegalArgumentException(label);
    }

    /** The policy decides every step; each step's "measured" time is the true cost with ±25% noise. */
    private static int[] runWithObservedCosts(GoodputPolicy policy, ForwardCostModel truth, int n, int steps,
                                              long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] count = new int[CONFIGS.size()];
        for (int step = 0; step < steps; step++) {
            int c = policy.choose(n, n);
            count[c]++;
            double seconds = truth.seconds(n, policy.rowsPerPass(c)) * (0.75 + 0.5 * rng.nextDouble());
            policy.observeStep(c, n, Math.round(seconds * 1e9));
        }
        return count;
    }

    private static int bestUnder(ForwardCostModel cost, int n, double[] survival) {
        int best = 0;
        double bestRate = 0;
        for (int i = 0; i < CONFIGS.size(); i++) {
            double rate = simulate(CONFIGS.get(i), n, survival, cost, 3000, 11 + i);
            if (rate > bestRate) {
                best = i;
                bestRate = rate;
            }
        }
        return best;
    }

    @Test
    void costModelInterpolatesBetweenAndScalesBeyondMeasuredShapes() {
        assertEquals(COMPUTE.seconds(4, 9), 1e-5 + 2e-5 * 36, 1e-12);
        double between = COMPUTE.seconds(4, 6);
        assertTrue(between > COMPUTE.seconds(4, 5) && between < COMPUTE.seconds(4, 9), "interpolated " + between);
        assertEquals(COMPUTE.seconds(64, 81) * 2, COMPUTE.seconds(128, 81), 1e-12, "linear beyond the sequences");
        assertEquals(COMPUTE.seconds(8, 81) * 2, COMPUTE.seconds(8, 162), 1e-12, "linear beyond the rows");
        double[][] partial = new double[2][3];
        partial[0] = new double[]{1, 2, Double.NaN};
        partial[1] = new double[]{Double.NaN, Double.NaN, Double.NaN};
        ForwardCostModel m = new ForwardCostModel("partial", new int[]{1, 2}, new int[]{1, 2, 4}, partial, 0);
        assertEquals(4, m.seconds(1, 4), 1e-12, "unmeasured cell: scaled from the last measured one");
        assertEquals(8, m.seconds(2, 4), 1e-12, "unmeasured sequence count: scaled from one sequence");
    }

    @Test
    void unmeasuredBlocksOfABatchGrowAsOneSequenceMeasuredTheSameTotalRows() {
        // memory-bound: one sequence's 9 rows cost 2x its one row; the budget stopped at 4 sequences' one row
        double[][] t = {{1, 1.2, 2.0}, {1.1, Double.NaN, Double.NaN}};
        ForwardCostModel m = new ForwardCostModel("budget", new int[]{1, 4}, new int[]{1, 3, 9}, t, 0);
        assertEquals(1.1 * m.seconds(1, 8) / m.seconds(1, 4), m.seconds(4, 2), 1e-12, "8 rows in all, measured");
        assertEquals(1.1 * m.seconds(1, 9) / m.seconds(1, 4) * 12 / 9, m.seconds(4, 3), 1e-12,
                "12 rows in all: one sequence's growth to 9, linear beyond");
        assertTrue(m.seconds(4, 3) < 0.7 * 3 * 1.1, "not priced as three one-row forwards: " + m.seconds(4, 3));
    }

    /**
     * A task shorter than the policy's warm-up (the demo's are under a second) would never decide, though the JVM
     * already holds a calibration of the same key (the local warm-up, or an earlier task, compiled and timed the
     * forward): the warm-up ends as soon as one is there, and not before.
     */
    @Test
    void theWarmUpEndsOnceThisJvmHoldsACostModel() {
        AcceptanceTable table = tableBySimulation(survival(0.85));
        boolean[] cachedElsewhere = {false};
        int[] calibrations = {0};
        GoodputPolicy policy = new GoodputPolicy(CONFIGS, table, () -> {
            calibrations[0]++;
            return MEMORY;
        }, () -> cachedElsewhere[0], 3_600_000_000_000L);
        assertEquals(0, policy.choose(1, 1), "within the warm-up: autoregressive");
        assertEquals(0, calibrations[0], "and no calibration");
        cachedElsewhere[0] = true;
        assertEquals("quadratic k=8", CONFIGS.get(policy.choose(1, 1)).label(), "decides from the cached model");
        assertEquals(1, calibrations[0]);
    }

    @Test
    void anMtpConfigurationIsKeptUntilAnotherIsPredictedClearlyFaster() {
        List<DecodeConfig> configs = CONFIGS.stream().filter(c -> c.autoregressive() || c.layout() == BlockLayout.LINEAR
                && c.k() <= 2).toList();
        AcceptanceTable oracle = new AcceptanceTable("oracle", Map.of("linear k=1", 2.0, "linear k=2", 3.0),
                Map.of("linear k=1", 3.0, "linear k=2", 5.0));
        ForwardCostModel flat = ForwardCostModel.of("flat", SEQUENCES, ROWS, (n, r) -> 1e-2);
        GoodputPolicy policy = new GoodputPolicy(configs, oracle, flat);
        int k1 = 1;
        int k2 = 2;
        // measured: autoregressive 100 tokens/s, k=1 200, k=2 204 (each step's time / 10 ms is its correction)
        observe(policy, 0, 1.0);
        observe(policy, k1, 2.0 / 2.00);
        observe(policy, k2, 3.0 / 2.04);
        assertEquals(k2, policy.choose(1, 1));
        observe(policy, k1, 2.0 / 2.08); // k=1 now 2% ahead: within the noise, k=2 stays
        assertEquals(k2, policy.choose(1, 1));
        observe(policy, k1, 2.0 / 2.20); // 8% ahead: switch
        assertEquals(k1, policy.choose(1, 1));
        observe(policy, k2, 3.0 / 2.24); // and back only when k=2 is clearly ahead again
        assertEquals(k1, policy.choose(1, 1));
        observe(policy, k2, 3.0 / 2.40);
        assertEquals(k2, policy.choose(1, 1));
    }

    /** A full observation window of steps of configuration i at {@code ratio} times its 10 ms calibrated cost. */
    private static void observe(GoodputPolicy policy, int i, double ratio) {
        for (int s = 0; s < GoodputPolicy.OBSERVATION_WINDOW; s++) {
            policy.observeStep(i, 1, Math.round(ratio * 1e7));
        }
    }

    /** P(first j drafts accepted) = decay^j (prefix acceptance). */
    private static double[] survival(double decay) {
        double[] s = new double[9];
        s[0] = 1;
        for (int j = 1; j < s.length; j++) {
            s[j] = s[j - 1] * decay;
        }
        return s;
    }

    /** What {@code eval} would measure: each configuration decoded alone for many steps. */
    private static AcceptanceTable tableBySimulation(double[] survival) {
        Map<String, Double> tokens = new LinkedHashMap<>();
        Map<String, Double> rows = new LinkedHashMap<>();
        for (DecodeConfig c : CONFIGS) {
            if (c.autoregressive()) {
                continue;
            }
            double[] tr = run(c, 1, survival, null, 20_000, 3);
            tokens.put(c.label(), tr[0] / tr[2]);
            rows.put(c.label(), tr[1] / tr[2]);
        }
        return new AcceptanceTable("simulation", tokens, rows);
    }

    /** Simulated tokens/s of a fixed configuration over n sequences. */
    private static double simulate(DecodeConfig c, int n, double[] survival, ForwardCostModel cost, int steps,
                                   long seed) {
        double[] r = run(c, n, survival, cost, steps, seed);
        return r[0] / r[3];
    }

    /** Step by step: {tokens, rows, passes, seconds} summed over all sequences and steps. */
    private static double[] run(DecodeConfig c, int n, double[] survival, ForwardCostModel cost, int steps,
                                long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        boolean[] drafts = new boolean[n]; // fresh drafts for the next step
        double tokens = 0;
        double rows = 0;
        double passes = 0;
        double seconds = 0;
        int k = c.k();
        for (int step = 0; step < steps; step++) {
            double stepRows = 0;
            for (int s = 0; s < n; s++) {
                int d = drafts[s] ? k : 0;
                int r = c.layout().rows(d, k);
                int a = 0;
                while (a < d && rng.nextDouble() < survival[a + 1] / survival[a]) {
                    a++;
                }
                tokens += 1 + a;
                stepRows += r;
                passes++;
                drafts[s] = k > 0 && (c.layout() == BlockLayout.QUADRATIC || a == d);
            }
            rows += stepRows;
            if (cost != null) {
                seconds += cost.seconds(n, stepRows / n);
            }
        }
        return new double[]{tokens, rows, passes, seconds};
    }
}
