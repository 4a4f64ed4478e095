package io.mtpspark.engine.goodput;

import io.mtpspark.engine.decode.BlockLayout;
import io.mtpspark.engine.decode.DecodeConfig;
import io.mtpspark.engine.decode.StepChooser;
import io.mtpspark.engine.mtp.AcceptanceTable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The goodput-optimal choice: for n sequences in flight, the configuration that maximises expected generated
 * tokens per second, {@code Σ_i E_i[tokens/pass] ÷ cost(n sequences × rows of the step)}, where E comes from the
 * adapter's {@link AcceptanceTable} scaled by each sequence's observed acceptance ratio and the cost from a
 * {@link ForwardCostModel} measured on the backend. Autoregressive decoding is always a candidate, so the choice is
 * never predicted slower than it.
 *
 * <p>The calibration is a short measurement of the forward alone, and on a shared machine it can be off by tens of
 * percent, more than MTP's margin over autoregressive decoding on a compute-bound backend. So the policy also
 * learns from the run: each decoding step's measured wall time (forward, verification, drafting) divided by the
 * calibrated forward time gives a correction per configuration (the median of its last {@value #OBSERVATION_WINDOW}
 * steps), and the choice uses corrected costs. A configuration not yet run is priced at its forward plus
 * autoregressive decoding's measured time per step beyond the forward, which is measured before any measured costs
 * are compared. A configuration that the calibration
 * flattered thus runs a few steps, shows its real cost and is dropped; one predicted within
 * {@value #EXPLORE_SHARE} of the best is tried for a few steps too (and again, while it stays near, up to
 * {@value #RETRY_UNTIL} measured steps), since noise can make a cell look dear as well as cheap, within a budget of
 * {@value #EXPLORE_BUDGET} of the decoding time measured so far. The choice converges on what the run itself
 * measures.
 *
 * <p>The cost model may come lazily: a cold JVM runs the forward's SIMD loops interpreted, up to 100× slower, and a
 * calibration then would time the JIT, not the backend. So the policy can decode autoregressively for a warm-up
 * time first (which compiles the forward), then calibrate (once per JVM and key, see {@link CostCalibrator}) and
 * decide from then on. The warm-up ends early once the JVM holds a cost model for the key (another task, or the
 * local warm-up, compiled the forward and timed it): tasks shorter than the warm-up would otherwise never decide.
 * A calibration that fails leaves it autoregressive for good.
 */
public final class GoodputPolicy implements StepChooser {
    /**
     * An MTP configuration must be predicted this much faster than autoregressive decoding to be chosen: the cost
     * and acceptance models are estimates, and a tie is not worth the drafting work they leave out.
     */
    static final double MTP_MARGIN = 1.03;
    /**
     * The MTP configuration decoding now is kept unless another is predicted this much faster: two configurations
     * predicted within noise of each other would otherwise alternate on every correction update, each switch paying
     * a pass whose drafts the previous configuration made for a different k. A change in the number of sequences is
     * a real change of the step's cost, so the margin holds only while that number stays the same.
     */
    static final double SWITCH_MARGIN = 1.03;
    /** Steps whose measured-to-calibrated ratios make up a configuration's correction (their median). */
    static final int OBSERVATION_WINDOW = 32;
    /** Steps before a configuration's own correction is trusted (autoregressive runs this many first). */
    static final int MIN_OBSERVATIONS = 3;
    /** A configuration never run is tried when predicted within this share of the best (calibration noise). */
    static final double EXPLORE_SHARE = 0.9;
    /**
     * A near contender is tried again (another {@value #MIN_OBSERVATIONS} steps, within the budget) until it has this
     * many measured steps: three noisy steps can make a configuration that narrowly wins look narrowly worse.
     */
    static final int RETRY_UNTIL = 4 * MIN_OBSERVATIONS;
    /**
     * Exploration may take at most this share of the decoding time measured so far: a trial is started only when its
     * predicted time fits, and counts at its measured time (on a compute-bound CPU one step of a big block can cost
     * twenty autoregressive steps, so a budget of steps would let trials take most of a short run's time).
     */
    static final double EXPLORE_BUDGET = 0.05;
    private final List<DecodeConfig> configs;
    private final double[] tokens;
    private final double[] rows;
    private final double[] drafted;
    private static final Logger LOG = Logger.getLogger(GoodputPolicy.class.getName());
    private ForwardCostModel cost;
    private final Supplier<ForwardCostModel> calibration;
    private final BooleanSupplier calibratedElsewhere;
    private final long warmUpNanos;
    private long warmUntil;
    private boolean failed;
    private int lastSequences = 1;
    private final double[][] ratios; // per configuration, a ring of measured ÷ calibrated step times
    private final int[] observations;
    private final double[] correction;
    private final boolean[] stale; // a configuration's correction predates its latest observations
    private final int[] predictedFor; // the sequence count predictedStep holds the calibrated step time for
    private final double[] predictedStep;
    private final double[] scratch = new double[OBSERVATION_WINDOW];
    private double secondsObserved;
    private double secondsExploring;
    private int exploring = -1; // the configuration being tried, until its cost is measured
    private int current; // the configuration last chosen as the best (trials aside)
    private int currentFor; // the sequence count it was chosen for
    private int trialEnd; // the observation count at which the trial of {@code exploring} ends

    /** With a cost model already measured. */
    public GoodputPolicy(List<DecodeConfig> configs, AcceptanceTable table, ForwardCostModel cost) {
        this(configs, table, () -> cost, () -> true, 0);
        this.cost = cost;
    }

    /** Calibrating after the warm-up, whatever else this JVM has measured. */
    public GoodputPolicy(List<DecodeConfig> configs, AcceptanceTable table, Supplier<ForwardCostModel> calibration,
                         long warmUpNanos) {
        this(configs, table, calibration, () -> false, warmUpNanos);
    }

    /**
     * @param configs     candidates (the first must be autoregressive); every MTP one needs an entry in {@code table}
     * @param calibration         measures the cost model (null or an exception: calibration failed)
     * @param calibratedElsewhere whether {@code calibration} would now answer from a model this JVM has measured
     *                            already (it ends the warm-up)
     * @param warmUpNanos         autoregressive decoding from the first choice until calibration
     */
    public GoodputPolicy(List<DecodeConfig> configs, AcceptanceTable table, Supplier<ForwardCostModel> calibration,
                         BooleanSupplier calibratedElsewhere, long warmUpNanos) {
        if (configs.isEmpty() || !configs.get(0).autoregressive()) {
            throw new IllegalArgumentException("the first candidate must be autoregressive, got " + configs);
        }
        this.configs = List.copyOf(configs);
        this.calibration = calibration;
        this.calibratedElsewhere = calibratedElsewhere;
        this.warmUpNanos = warmUpNanos;
        int n = configs.size();
        ratios = new double[n][OBSERVATION_WINDOW];
        observations = new int[n];
        correction = new double[n];
        stale = new boolean[n];
        predictedFor = new int[n];
        predictedStep = new double[n];
        tokens = new double[n];
        rows = new double[n];
        drafted = new double[n];
        for (int i = 0; i < n; i++) {
            DecodeConfig c = configs.get(i);
            if (c.autoregressive()) {
                tokens[i] = 1;
                rows[i] = 1;
                drafted[i] = 1;
                continue;
            }
            Double t = table == null ? null : table.tokens(c.label());
            if (t == null) {
                throw new IllegalArgumentException("no acceptance measured for " + c.label());
            }
            tokens[i] = t;
            rows[i] = Math.min(c.fullRows(), table.rows(c.label()));
            // linear: passes with drafts send 2k+1 rows, those without k+1, so the mean rows give their share
            drafted[i] = c.layout() == BlockLayout.LINEAR
                    ? Math.max(0.05, Math.min(1, (rows[i] - c.k() - 1) / c.k())) : 1;
        }
    }

    /** The candidates that {@code table} measured, autoregressive first, among {@code configs}. */
    public static List<DecodeConfig> measured(List<DecodeConfig> configs, AcceptanceTable table) {
        List<DecodeConfig> out = new ArrayList<>();
        for (DecodeConfig c : configs) {
            if (c.autoregressive() || table != null && table.tokens(c.label()) != null) {
                out.add(c);
            }
        }
        return out;
    }

    public List<DecodeConfig> configs() {
        return configs;
    }

    /** The cost model, or null before calibration (or after it failed). */
    public ForwardCostModel cost() {
        return cost;
    }

    /**
     * Calibrates now if that has not happened yet, warm-up time or not (benchmarks: after their warm-up rounds, so
     * that no measured round contains the calibration). Returns whether a cost model is there.
     */
    public boolean calibrateNow() {
        if (cost == null && !failed) {
            warmUntil = System.nanoTime() - 1;
        }
        return calibrated();
    }

    /** Whether the cost model is there, calibrating it once the warm-up time has passed. */
    private boolean calibrated() {
        if (cost != null || failed) {
            return cost != null;
        }
        long now = System.nanoTime();
        if (warmUntil == 0) {
            warmUntil = now + warmUpNanos;
        }
        if (now < warmUntil && !calibratedElsewhere.getAsBoolean()) {
            return false;
        }
        try {
            cost = calibration.get();
        } catch (RuntimeException e) {
            LOG.warning("--decoder auto: cost calibration failed (" + e + "); decoding autoregressively");
        }
        failed = cost == null;
        if (cost != null) {
            LOG.info("--decoder auto: " + reason(lastSequences));
        }
        return cost != null;
    }

    @Override
    public int choose(int sequences, double acceptanceRatioSum) {
        lastSequences = sequences;
        if (!calibrated()) {
            return 0;
        }
        boolean learning = measuredAny();
        if (learning && observations[0] < MIN_OBSERVATIONS) {
            // the baseline's own step cost is measured before measured costs are compared with it (an MTP step's
            // includes drafting, which the calibration of the forward leaves out)
            return 0;
        }
        int best = best(sequences, acceptanceRatioSum);
        double arRate = tokensPerSecond(0, sequences, acceptanceRatioSum);
        double bestRate = best == 0 ? arRate * MTP_MARGIN : tokensPerSecond(best, sequences, acceptanceRatioSum);
        if (!learning) {
            current = best;
            currentFor = sequences;
            return best;
        }
        // a contender predicted close to the best but never run may only look worse through the calibration's
        // noise: run it a few steps and let its measured cost decide (once per configuration), if it could win at
        // all (its block costing no more than one row)
        int explore = -1;
        if (exploring >= 0 && observations[exploring] < trialEnd) {
            return exploring; // finish measuring the one being tried
        }
        exploring = -1;
        double exploreRate = EXPLORE_SHARE * Math.max(bestRate, arRate);
        double oneRow = stepSeconds(0, sequences);
        double budget = EXPLORE_BUDGET * secondsObserved - secondsExploring; // short runs barely explore
        for (int i = 1; i < configs.size(); i++) {
            double rate = tokensPerSecond(i, sequences, acceptanceRatioSum);
            boolean couldWin = expectedTokens(i, sequences, acceptanceRatioSum) / oneRow > bestRate;
            boolean fits = MIN_OBSERVATIONS * stepSeconds(i, sequences) <= budget;
            if (i != best && observations[i] < RETRY_UNTIL && rate >= exploreRate && couldWin && fits) {
                explore = i;
                exploreRate = rate;
            }
        }
        if (explore >= 0) {
            exploring = explore;
            trialEnd = observations[explore] + MIN_OBSERVATIONS;
            return explore;
        }
        current = best;
        currentFor = sequences;
        return best;
    }

    /**
     * The configuration with the highest corrected prediction: autoregressive unless MTP beats it by
     * {@link #MTP_MARGIN}, and the current MTP configuration unless another beats it by {@link #SWITCH_MARGIN}.
     */
    private int best(int sequences, double acceptanceRatioSum) {
        int best = 0;
        double arRate = tokensPerSecond(0, sequences, acceptanceRatioSum) * MTP_MARGIN;
        double bestRate = arRate;
        for (int i = 1; i < configs.size(); i++) {
            double rate = tokensPerSecond(i, sequences, acceptanceRatioSum);
            if (rate > bestRate) {
                best = i;
                bestRate = rate;
            }
        }
        if (best != 0 && current != 0 && best != current && sequences == currentFor) {
            double kept = tokensPerSecond(current, sequences, acceptanceRatioSum);
            if (kept > arRate && kept * SWITCH_MARGIN >= bestRate) {
                return current;
            }
        }
        return best;
    }

    /**
     * Predicted tokens per second of configuration {@code i} for the step: expected tokens over the predicted step
     * time (see {@code stepSeconds} and the class comment).
     */
    public double tokensPerSecond(int i, int sequences, double acceptanceRatioSum) {
        return expectedTokens(i, sequences, acceptanceRatioSum) / stepSeconds(i, sequences);
    }

    /**
     * Predicted seconds of one decoding step of configuration {@code i}: the calibrated forward times the
     * configuration's own correction once it has run {@value #MIN_OBSERVATIONS} steps. Before that, the forward plus
     * autoregressive decoding's measured time per step beyond its forward (sampling, bookkeeping: a cost per step,
     * which scaling a bigger block's forward by autoregressive decoding's ratio would inflate, so that a configuration
     * the calibration prices near the best would look too dear ever to be tried).
     */
    private double stepSeconds(int i, int sequences) {
        double forward = predictedSeconds(i, sequences);
        if (observations[i] >= MIN_OBSERVATIONS || observations[0] < MIN_OBSERVATIONS) {
            return forward * correction(i);
        }
        return forward + (correction(0) - 1) * predictedSeconds(0, sequences);
    }

    private double expectedTokens(int i, int sequences, double acceptanceRatioSum) {
        return sequences + (tokens[i] - 1) * acceptanceRatioSum;
    }

    @Override
    public boolean observeStep(int index, int sequences, long nanos) {
        if (cost == null) {
            return false;
        }
        double predicted = predictedSeconds(index, sequences);
        if (!(predicted > 0) || nanos <= 0) {
            return false;
        }
        secondsObserved += nanos / 1e9;
        if (index == exploring) {
            secondsExploring += nanos / 1e9;
        }
        ratios[index][observations[index] % OBSERVATION_WINDOW] = nanos / 1e9 / predicted;
        observations[index]++;
        stale[index] = true; // the median is taken when a choice needs it (every few steps), not on every step
        return observations[index] == MIN_OBSERVATIONS;
    }

    /**
     * Measured step time ÷ calibrated forward time for configuration {@code i}: its own once it has run
     * {@value #MIN_OBSERVATIONS} decoding steps, else autoregressive decoding's, else 1 (nothing measured yet).
     */
    public double correction(int i) {
        int from = observations[i] >= MIN_OBSERVATIONS ? i : observations[0] >= MIN_OBSERVATIONS ? 0 : -1;
        if (from < 0) {
            return 1;
        }
        if (stale[from]) {
            int n = Math.min(observations[from], OBSERVATION_WINDOW);
            System.arraycopy(ratios[from], 0, scratch, 0, n);
            Arrays.sort(scratch, 0, n);
            correction[from] = n % 2 == 1 ? scratch[n / 2] : (scratch[n / 2 - 1] + scratch[n / 2]) / 2;
            stale[from] = false;
        }
        return correction[from];
    }

    private boolean measuredAny() {
        for (int o : observations) {
            if (o >= MIN_OBSERVATIONS) {
                return true;
            }
        }
        return false;
    }

    /** Decoding steps measured so far for configuration {@code i}. */
    public int observations(int i) {
        return observations[i];
    }

    @Override
    public double priorTokensPerPass(int index) {
        return tokens[index];
    }

    @Override
    public double draftedShare(int index) {
        return drafted[index];
    }

    @Override
    public double predictedSeconds(int index, int sequences) {
        if (cost == null) {
            return Double.NaN;
        }
        if (predictedFor[index] != sequences) { // the interpolation's logs once per sequence count, not every step
            predictedFor[index] = sequences;
            predictedStep[index] = cost.seconds(sequences, rows[index]);
        }
        return predictedStep[index];
    }

    /** Mean rows per sequence of a pass of configuration {@code i}. */
    public double rowsPerPass(int i) {
        return rows[i];
    }

    /**
     * One line saying what the policy chooses for {@code sequences} sequences at the prior's acceptance and why,
     * e.g. "quadratic k=8 at 1 sequence: 3.28 tokens/pass for a block costing 2.1x one row; predicted 9,400
     * tokens/s vs 3,100 autoregressive".
     */
    public String reason(int sequences) {
        if (cost == null) {
            return "autoregressive: " + (failed ? "the cost calibration failed" : "the forward's cost is calibrated "
                    + "after a warm-up of autoregressive decoding");
        }
        int c = best(sequences, sequences); // what it prefers, without starting a trial of another configuration
        double ar = tokensPerSecond(0, sequences, sequences);
        String at = " at " + sequences + (sequences == 1 ? " sequence" : " sequences");
        if (c == 0) {
            int bestMtp = -1;
            for (int i = 1; i < configs.size(); i++) {
                if (bestMtp < 0 || tokensPerSecond(i, sequences, sequences)
                        > tokensPerSecond(bestMtp, sequences, sequences)) {
                    bestMtp = i;
                }
            }
            if (bestMtp < 0) {
                return "autoregressive" + at + ": no MTP configuration measured";
            }
            return String.format("autoregressive%s: predicted %,.0f tokens/s; the best MTP option, %s, gives "
                            + "%.2f tokens/pass but its %.0f-row block costs %.1fx one row here (%,.0f tokens/s)", at,
                    ar, configs.get(bestMtp).label(), tokens[bestMtp], rows[bestMtp],
                    cost.relative(sequences, rows[bestMtp]), tokensPerSecond(bestMtp, sequences, sequences));
        }
        return String.format("%s%s: %.2f tokens/pass for a %.0f-row block costing %.1fx one row; predicted %,.0f "
                        + "tokens/s vs %,.0f autoregressive", configs.get(c).label(), at, tokens[c], rows[c],
                cost.relative(sequences, rows[c]), tokensPerSecond(c, sequences, sequences), ar);
    }
}
