package io.mtpspark.engine.decode;

import io.mtpspark.engine.llama.BlockForward;
import io.mtpspark.engine.mtp.Drafter;
import io.mtpspark.engine.mtp.MtpAdapter;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --decoder auto}: every step runs the configuration (autoregressive, linear or quadratic, and k) a
 * {@link StepChooser} picks for the sequences then in flight, so the choice follows continuous batching as it admits
 * and retires sequences. Greedy output is autoregressive output whatever the schedule (see {@link MtpDecoder} on
 * why switching is exact), and sampled output keeps the target distribution.
 *
 * <p>Online refinement: each pass that verified a full set of drafts adds its emitted tokens above one to an
 * observed total and the prior's expectation for that pass to a predicted one, per sequence and for the whole
 * decoder. Their ratio (shrunk toward the decoder's, and the decoder's toward 1 = the prior) scales what the
 * chooser expects of every MTP configuration for that sequence, so a stream that accepts less (or more) than the
 * adapter's table moves the choice.
 */
public final class AdaptiveDecoder extends MtpDecoder {
    /** Pseudo-observations (in expected excess tokens) behind the prior's ratio of 1 for the decoder. */
    static final double RUN_PRIOR_WEIGHT = 64;
    /** Pseudo-observations behind the decoder-wide ratio for one sequence. */
    static final double SEQUENCE_PRIOR_WEIGHT = 16;

    private final StepChooser chooser;
    private final long[] steps;
    private double runObserved;
    private double runPredicted;
    private double predictedTokens;
    private double predictedSeconds;
    private long measuredTokens;
    private long measuredNanos;
    private int lastSequences;
    private int sinceDecision;
    private boolean redecide;
    private double lastRatioSum;

    public AdaptiveDecoder(BlockForward forward, MtpAdapter adapter, List<DecodeConfig> configs, Drafter drafter,
                           int batchSize, StepChooser chooser) {
        super(forward, adapter, configs, drafter, batchSize);
        this.chooser = chooser;
        this.steps = new long[configs.size()];
    }

    @Override
    public String name() {
        return "auto";
    }

    @Override
    protected void beforeStep(int sequences) {
        if (sequences == 0) {
            return;
        }
        if (sequences == lastSequences && !redecide && ++sinceDecision < chooser.decisionInterval()) {
            account(sequences, lastRatioSum);
            return;
        }
        lastSequences = sequences;
        sinceDecision = 0;
        redecide = false;
        double run = (runObserved + RUN_PRIOR_WEIGHT) / (runPredicted + RUN_PRIOR_WEIGHT);
        double ratioSum = 0;
        for (int i = 0; i < batchSize(); i++) {
            Sequence s = slot(i);
            if (s != null && s.inFlight()) {
                MtpSequence m = (MtpSequence) s;
                ratioSum += (m.excessObserved + SEQUENCE_PRIOR_WEIGHT * run)
                        / (m.excessPredicted + SEQUENCE_PRIOR_WEIGHT);
            }
        }
        int choice = chooser.choose(sequences, ratioSum);
        use(choice);
        lastRatioSum = ratioSum;
        account(sequences, ratioSum);
    }

    /** Counts the step under its configuration and adds what the chooser predicts for it. */
    private void account(int sequences, double ratioSum) {
        int choice = currentIndex();
        steps[choice]++;
        double seconds = chooser.predictedSeconds(choice, sequences);
        if (!Double.isNaN(seconds)) {
            predictedSeconds += seconds;
            predictedTokens += sequences + (chooser.priorTokensPerPass(choice) - 1) * ratioSum;
        }
    }

    @Override
    protected void afterForward(int sequences, int rows, long nanos) {
        measuredNanos += nanos;
    }

    @Override
    protected void afterDecodeStep(int sequences, long nanos) {
        if (chooser.observeStep(currentIndex(), sequences, nanos)) {
            redecide = true;
        }
    }

    @Override
    protected void observed(MtpSequence s, int configIndex, int tokens, int accepted, boolean fullDrafts) {
        measuredTokens += tokens;
        if (!fullDrafts) {
            return;
        }
        // the accepted drafts, not the tokens emitted: a pass cut by the budget (k=8 with 7 tokens left emits 7 of
        // its 9) would otherwise read as poor acceptance, and more so the bigger k, steering short sequences to
        // small k for the wrong reason
        double expected = (chooser.priorTokensPerPass(configIndex) - 1) / chooser.draftedShare(configIndex);
        s.excessObserved += accepted;
        s.excessPredicted += expected;
        runObserved += accepted;
        runPredicted += expected;
    }

    /** Acceptance relative to the prior over this decoder's life (1 = as the adapter's table says). */
    public double acceptanceRatio() {
        return (runObserved + RUN_PRIOR_WEIGHT) / (runPredicted + RUN_PRIOR_WEIGHT);
    }

    /**
     * Forgets the steps per configuration and the predicted and measured rates so far (a benchmark's warm-up), not
     * what the chooser and the acceptance estimates have learnt.
     */
    public void resetStatistics() {
        Arrays.fill(steps, 0);
        predictedTokens = 0;
        predictedSeconds = 0;
        measuredTokens = 0;
        measuredNanos = 0;
    }

    /** Steps run with each configuration so far (labels in configuration order, configurations never run left out). */
    public Map<String, Long> stepsByConfig() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < steps.length; i++) {
            if (steps[i] > 0) {
                out.put(configs().get(i).label(), steps[i]);
            }
        }
        return out;
    }

    /** What the policy predicted for the steps so far: tokens per second of forward time (NaN without a model). */
    public double predictedTokensPerSecond() {
        return predictedSeconds == 0 ? Double.NaN : predictedTokens / predictedSeconds;
    }

    /** Tokens emitted per second of forward time so far (sampling and drafting excluded, as in the prediction). */
    public double measuredTokensPerSecond() {
        return measuredNanos == 0 ? Double.NaN : measuredTokens * 1e9 / measuredNanos;
    }

    public StepChooser chooser() {
        return chooser;
    }
}
