package io.mtpspark.engine.train;

import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.model.RandomModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.mtp.MtpAdapterConfig;
import io.mtpspark.engine.mtp.SamplerOptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.EnumSet;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every hand-written backward against central finite differences, in double precision, on a tiny random model with
 * GQA, q/k/v biases and an untied classifier: mask embeddings (gradient through every layer of the frozen base),
 * each LoRA down/up of every target in every layer, and the sampler's linears and norms. Relative error < 1e-4.
 */
class GradientCheckTest {

    @ParameterizedTest
    @ValueSource(strings = {"teacher-forcing", "chained-no-residual"})
    void analyticGradientsMatchFiniteDifferences(String variant) {
        boolean chain = variant.startsWith("chained");
        LlamaConfig c = RandomModel.tinyConfig(40, true);
        LlamaModel model = RandomModel.create(c, 21);
        int k = 3;
        MtpAdapter random = MtpAdapter.random(model, k, 2, 4);
        MtpAdapterConfig cfg = new MtpAdapterConfig(k, 2, 0.7f, EnumSet.allOf(io.mtpspark.engine.mtp.LoraTarget.class),
                new SamplerOptions(!chain), random.config().baseFingerprint());
        MtpAdapter adapter = new MtpAdapter(cfg, random.maskEmbeddings(), loraOf(random, c), random.sampler());
        TrainableParams params = new TrainableParams(adapter, c, true);
        LossOptions loss = new LossOptions(1.0, 0.8, 0.5, chain);
        MtpTrainingGraph graph = new MtpTrainingGraph(model, new FrozenBase(model, 64), params, cfg, loss, k, 16);
        TrainingSequence seq = new TrainingSequence(new int[]{1, 7, 12, 5, 33, 9, 21, 14, 3, 30, 11}, 2);
        double scaleAll = 1.0 / (seq.maskRows(k) + seq.ntpPositions());
        double scaleLcm = 1.0 / seq.lcmPositions(k);
        graph.zeroGrads();
        graph.run(seq, scaleAll, scaleLcm, true);
        SplittableRandom rng = new SplittableRandom(5);
        int checked = 0;
        double worst = 0;
        String worstName = "";
        for (TrainableParams.Param p : params.trainable()) {
            double[] ana = graph.grad(p);
            for (int probe = 0; probe < 8; probe++) {
                int i = rng.nextInt(p.value().length);
                double old = p.value()[i];
                double hstep = 1e-5;
                p.value()[i] = old + hstep;
                double plus = graph.run(seq, scaleAll, scaleLcm, false).total();
                p.value()[i] = old - hstep;
                double minus = graph.run(seq, scaleAll, scaleLcm, false).total();
                p.value()[i] = old;
                double num = (plus - minus) / (2 * hstep);
                double denom = Math.max(Math.abs(num) + Math.abs(ana[i]), 1e-7);
                double rel = Math.abs(num - ana[i]) / denom;
                if (rel > worst) {
                    worst = rel;
                    worstName = p.name() + "[" + i + "] numeric " + num + " analytic " + ana[i];
                }
                checked++;
            }
        }
        assertTrue(checked > 200, "probes " + checked);
        assertTrue(worst < 1e-4, "worst relative error " + worst + " at " + worstName);
    }

    private static io.mtpspark.engine.mtp.LoraWeights[][] loraOf(MtpAdapter a, LlamaConfig c) {
        var out = new io.mtpspark.engine.mtp.LoraWeights[c.nLayers()][io.mtpspark.engine.mtp.LoraTarget.values().length];
        for (int l = 0; l < c.nLayers(); l++) {
            for (var t : io.mtpspark.engine.mtp.LoraTarget.values()) {
                out[l][t.ordinal()] = a.lora(l, t);
            }
        }
        return out;
    }
}
