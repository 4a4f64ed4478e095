package io.mtpspark.engine.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.safetensors.SafetensorsFile;
import io.mtpspark.engine.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Trains an {@link MtpAdapter} on a frozen base model: each step draws a batch of sequences (a pure function of the
 * seed and the step number, so a resumed run sees the same batches), runs the training graph on worker threads
 * (sequence i of the batch always on worker i mod threads, gradients summed in worker order: deterministic), clips
 * the global gradient norm and applies AdamW. Checkpoints hold the adapter, the optimiser moments and the step.
 */
public final class MtpTrainer implements AutoCloseable {
    /** What one step did. Losses are batch means (the CE terms over all loss positions, LCM over real ones). */
    public record StepReport(int step, double loss, double baseCe, double samplerCe, double lcm, double ntpCe,
                             double gradNorm, double learningRate, long maskRows, long nanos) {
    }

    private final LlamaModel model;
    private final MtpAdapter adapter;
    private final TrainingConfig config;
    private final List<TrainingSequence> data;
    private final TrainableParams params;
    private final AdamW adam;
    private final MtpTrainingGraph[] graphs;
    private final ExecutorService pool;
    private int step;

    public MtpTrainer(LlamaModel model, MtpAdapter adapter, TrainingConfig config, List<TrainingSequence> data) {
        if (adapter.k() != config.k()) {
            throw new IllegalArgumentException("adapter has k=" + adapter.k() + " but training uses k=" + config.k());
        }
        if (data.isEmpty()) {
            throw new EngineException("no training sequences");
        }
        this.model = model;
        this.adapter = adapter;
        this.config = config;
        this.data = data;
        this.params = new TrainableParams(adapter, model.config(), config.trainMaskEmbeddings());
        this.adam = new AdamW(params.trainable(), config.beta1(), config.beta2(), config.epsilon(),
                config.weightDecay());
        int maxLen = 2;
        for (int i = 0; i < data.size(); i++) {
            int n = data.get(i).tokens().length;
            if (n > model.config().seqLen()) {
                throw new IllegalArgumentException("training sequence " + (i + 1) + " has " + n + " tokens, more than "
                        + "the model's context of " + model.config().seqLen() + " positions");
            }
            maxLen = Math.max(maxLen, n);
        }
        FrozenBase base = new FrozenBase(model, maxLen + config.k() + 1);
        graphs = new MtpTrainingGraph[config.threads()];
        for (int i = 0; i < graphs.length; i++) {
            graphs[i] = new MtpTrainingGraph(model, base, params, adapter.config(), config.loss(), config.k(), maxLen);
        }
        pool = Executors.newFixedThreadPool(config.threads(), r -> {
            Thread t = new Thread(r, "mtp-train");
            t.setDaemon(true);
            return t;
        });
    }

    public MtpAdapter adapter() {
        return adapter;
    }

    public int step() {
        return step;
    }

    public long trainableParameters() {
        return params.count();
    }

    /** The batch of a step: a pure function of (seed, step). */
    int[] batchIndices(int stepNumber) {
        SplittableRandom rng = new SplittableRandom(config.seed() * 1_000_003L + stepNumber);
        int[] idx = new int[config.batchSize()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = rng.nextInt(data.size());
        }
        return idx;
    }

    /** Runs one optimisation step. */
    public StepReport trainStep() {
        long t0 = System.nanoTime();
        int next = step + 1;
        int[] batch = batchIndices(next);
        List<TrainingSequence> sequences = new ArrayList<>(batch.length);
        for (int i : batch) {
            sequences.add(data.get(i));
        }
        double[] scale = normalisers(sequences);
        params.loadValues();
        MtpTrainingGraph.Losses losses = runBatch(batch, scale[0], scale[1], true);
        // sum worker gradients in worker order, then clip the global norm
        double norm2 = 0;
        for (TrainableParams.Param p : params.trainable()) {
            double[] g = p.grad();
            java.util.Arrays.fill(g, 0);
            for (MtpTrainingGraph graph : graphs) {
                double[] gg = graph.grad(p);
                for (int j = 0; j < g.length; j++) {
                    g[j] += gg[j];
                }
            }
            for (double x : g) {
                norm2 += x * x;
            }
        }
        double norm = Math.sqrt(norm2);
        if (config.gradClip() > 0 && norm > config.gradClip()) {
            double s = config.gradClip() / norm;
            for (TrainableParams.Param p : params.trainable()) {
                double[] g = p.grad();
                for (int j = 0; j < g.length; j++) {
                    g[j] *= s;
                }
            }
        }
        double lr = config.learningRateAt(next);
        adam.step(next, lr);
        step = next;
        return new StepReport(step, losses.total(), losses.baseCe(), losses.samplerCe(), losses.lcm(), losses.ntpCe(),
                norm, lr, losses.maskRows(), System.nanoTime() - t0);
    }

    /** Loss of the current adapter on given sequences (no update), as batch means. */
    public StepReport evaluate(List<TrainingSequence> sequences) {
        long t0 = System.nanoTime();
        double[] scale = normalisers(sequences);
        params.loadValues();
        MtpTrainingGraph.Losses total = new MtpTrainingGraph.Losses(0, 0, 0, 0, 0);
        for (TrainingSequence s : sequences) {
            total = total.plus(graphs[0].run(s, scale[0], scale[1], false));
        }
        return new StepReport(step, total.total(), total.baseCe(), total.samplerCe(), total.lcm(), total.ntpCe(), 0,
                0, total.maskRows(), System.nanoTime() - t0);
    }

    /** {1 / CE positions, 1 / LCM positions} over a batch: the losses are means over the whole batch. */
    private double[] normalisers(List<TrainingSequence> sequences) {
        long ceCount = 0;
        long lcmCount = 0;
        for (TrainingSequence s : sequences) {
            ceCount += s.maskRows(config.k()) + s.ntpPositions();
            lcmCount += s.lcmPositions(config.k());
        }
        return new double[]{1.0 / Math.max(1, ceCount), 1.0 / Math.max(1, lcmCount)};
    }

    private MtpTrainingGraph.Losses runBatch(int[] batch, double scaleAll, double scaleLcm, boolean backward) {
        List<Future<MtpTrainingGraph.Losses>> futures = new ArrayList<>();
        for (int w = 0; w < graphs.length; w++) {
            int worker = w;
            futures.add(pool.submit(() -> {
                MtpTrainingGraph graph = graphs[worker];
                graph.zeroGrads();
                MtpTrainingGraph.Losses sum = new MtpTrainingGraph.Losses(0, 0, 0, 0, 0);
                for (int i = worker; i < batch.length; i += graphs.length) {
                    sum = sum.plus(graph.run(data.get(batch[i]), scaleAll, scaleLcm, backward));
                }
                return sum;
            }));
        }
        MtpTrainingGraph.Losses total = new MtpTrainingGraph.Losses(0, 0, 0, 0, 0);
        for (Future<MtpTrainingGraph.Losses> f : futures) {
            try {
                total = total.plus(f.get());
            } catch (Exception e) {
                throw new IllegalStateException("training worker failed: " + e.getCause(), e.getCause());
            }
        }
        return total;
    }

    // ---------------------------------------------------------------------------------------------------------
    // checkpoints

    /** Writes adapter + AdamW moments + step to one safetensors file (the adapter part loads as a normal adapter). */
    public void saveCheckpoint(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".adapter.tmp");
        adapter.save(tmp, model);
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(tmp)) {
            for (var e : f.tensors().entrySet()) {
                w.add(e.getKey(), e.getValue().shape(), f.readFloats(e.getKey()), DType.F32);
            }
            f.metadata().forEach(w::metadata);
        }
        java.nio.file.Files.deleteIfExists(tmp);
        List<TrainableParams.Param> ps = params.trainable();
        for (int i = 0; i < ps.size(); i++) {
            w.add("adam.m." + ps.get(i).name(), new long[]{adam.m[i].length}, adam.m[i], DType.F32);
            w.add("adam.v." + ps.get(i).name(), new long[]{adam.v[i].length}, adam.v[i], DType.F32);
        }
        ObjectNode state = new ObjectMapper().createObjectNode();
        state.put("step", step);
        state.put("seed", config.seed());
        state.put("threads", config.threads());
        w.metadata("train_state", state.toString());
        w.write(file);
    }

    /** Restores adapter weights, AdamW moments and the step from a checkpoint written by {@link #saveCheckpoint}. */
    public void restore(Path file) {
        MtpAdapter saved = MtpAdapter.load(file, model);
        List<TrainableParams.Param> ps = params.trainable();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            String stateJson = f.metadata().get("train_state");
            if (stateJson == null) {
                throw new EngineException(file, "not a training checkpoint: no train_state metadata");
            }
            JsonNode state = new ObjectMapper().readTree(stateJson);
            if (state.path("seed").asLong() != config.seed() || state.path("threads").asInt() != config.threads()) {
                throw new EngineException(file, "checkpoint was written with seed " + state.path("seed") + " and "
                        + state.path("threads") + " threads; resume with the same --seed and --threads for an "
                        + "identical continuation");
            }
            TrainableParams savedParams = new TrainableParams(saved, model.config(), config.trainMaskEmbeddings());
            for (int i = 0; i < ps.size(); i++) {
                float[] src = savedParams.trainable().get(i).master();
                System.arraycopy(src, 0, ps.get(i).master(), 0, src.length);
                float[] m = f.readFloats("adam.m." + ps.get(i).name());
                float[] v = f.readFloats("adam.v." + ps.get(i).name());
                System.arraycopy(m, 0, adam.m[i], 0, m.length);
                System.arraycopy(v, 0, adam.v[i], 0, v.length);
            }
            System.arraycopy(saved.maskEmbeddings(), 0, adapter.maskEmbeddings(), 0,
                    adapter.maskEmbeddings().length);
            step = state.path("step").asInt();
        } catch (IOException e) {
            throw new EngineException(file, "cannot read checkpoint: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
