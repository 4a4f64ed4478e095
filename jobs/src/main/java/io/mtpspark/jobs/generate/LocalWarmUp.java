package io.mtpspark.jobs.generate;

import io.mtpspark.engine.cuda.GpuDetector;
import io.mtpspark.engine.decode.AdaptiveDecoder;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.GenerationRequest;
import io.mtpspark.engine.goodput.CostCalibrator;
import io.mtpspark.engine.goodput.GoodputPolicy;
import io.mtpspark.engine.sampling.SamplingOptions;
import io.mtpspark.engine.session.BackendChoice;
import io.mtpspark.engine.session.DecoderFactory;
import io.mtpspark.engine.tensor.Backend;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * On a local master the driver and the tasks share one JVM, so the engine a task needs can be made ready while the
 * driver still reads and checks the input, on the core the driver's planning leaves idle: a daemon thread loads the
 * engine into {@link EngineCache} and, for {@code --decoder auto}, builds the decoder a task would build, decodes
 * synthetic prompts autoregressively until a batch's time is steady (which compiles the forward) and calibrates the
 * cost model. The tasks then find the engine loaded, the cost model cached (the same key: model, backend, device)
 * and the forward compiled, instead of each starting JIT-cold and one calibrating while the other waits for the
 * cache entry. Nothing here produces output; what differs for the tasks is that the calibration was timed beside
 * the driver's planning rather than beside a waiting task, which the policy's per-step correction covers as it does
 * a busy neighbour. A failure is kept, logged and left to the tasks, which load and calibrate as they always did.
 * Only CPU backends are warmed: a GPU backend belongs to the task Spark assigned the device to.
 */
final class LocalWarmUp implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LocalWarmUp.class.getName());
    static final String THREAD = "mtp-local-warm-up";
    private static final int MAX_WARM_UP_FACTOR = 4;

    private Thread thread;
    private volatile RuntimeException failure;

    private LocalWarmUp() {
    }

    /**
     * Starts the warm-up for {@code --decoder auto} with an adapter (the decoder that calibrates) on a CPU backend
     * of a local master, else returns one that does nothing.
     *
     * @param taskCpus {@code spark.task.cpus}: the threads a task's backend gets without {@code --threads-per-task}
     */
    static LocalWarmUp start(boolean localMaster, GenerationSettings settings, Map<String, String> infraConfig,
                             ModelIdentities content, int taskCpus) {
        if (!localMaster || !"auto".equals(settings.decoder()) || settings.adapter() == null
                || !onCpu(settings.backend())) {
            return new LocalWarmUp();
        }
        int threads = settings.threadsPerTask() > 0 ? settings.threadsPerTask() : Math.max(1, taskCpus);
        LocalWarmUp warmUp = new LocalWarmUp();
        warmUp.thread = new Thread(() -> warmUp.warm(settings, infraConfig, content, threads), THREAD);
        warmUp.thread.setDaemon(true);
        warmUp.thread.start();
        return warmUp;
    }

    /** Whether {@code backend} (a {@code --backend} value) decodes on the CPU here. */
    static boolean onCpu(String backend) {
        BackendChoice choice = BackendChoice.parse(backend);
        return choice == BackendChoice.CPU || choice == BackendChoice.AUTO && !GpuDetector.detect().available();
    }

    private void warm(GenerationSettings settings, Map<String, String> infraConfig, ModelIdentities content,
                      int threads) {
        long t0 = System.nanoTime();
        try {
            LoadedEngine engine = EngineCache.engine(infraConfig, settings.model(), settings.tokenizerLocation(),
                    settings.adapterLocation(), content);
            boolean calibrated = false;
            try (Backend backend = BackendChoice.parse(settings.backend()).create(threads)) {
                // the task's decoder, as PartitionGenerator makes it (device "cpu": no GPU resource on a local master)
                Decoder decoder = DecoderFactory.create(settings.decoder(), engine.bundle().model(), backend,
                        engine.adapter(), settings.k(), settings.context(), settings.batchSize(), "cpu");
                if (decoder instanceof AdaptiveDecoder auto && auto.chooser() instanceof GoodputPolicy policy) {
                    // the policy's own order: decode autoregressively for its warm-up time first, so the forward is
                    // compiled when the calibration times it (a JIT-cold calibration books every step 50x dearer);
                    // not again when this JVM has calibrated before (an earlier run, which compiled it too)
                    if (CostCalibrator.cachedModel(DecoderFactory.calibrationKey(engine.bundle().model(), backend,
                            "cpu")).isEmpty()) {
                        decodeFor(decoder, settings.batchSize(), engine.bundle().model().config().vocabSize(),
                                DecoderFactory.AUTO_WARM_UP_NANOS);
                    }
                    calibrated = policy.calibrateNow();
                }
            }
            LOG.log(System.Logger.Level.INFO, String.format("local warm-up: engine loaded%s in %.0f ms, while the "
                    + "driver checked the input", calibrated ? " and cost model calibrated" : "",
                    (System.nanoTime() - t0) / 1e6));
        } catch (RuntimeException e) {
            failure = e;
            LOG.log(System.Logger.Level.WARNING, "local warm-up failed (" + e + "); the tasks load the engine "
                    + "themselves");
        }
    }

    /**
     * Greedy batches of synthetic prompts through {@code decoder} for at least {@code nanos} and until a batch's time
     * stops improving (five in a row no faster than 0.9x the best, as the calibration's own warm-up judges a compiled
     * forward), at most {@value #MAX_WARM_UP_FACTOR} times {@code nanos}: on a busy machine the JIT needs longer than
     * the policy's second, and a calibration that times a half-compiled one-row forward finds every MTP block cheap.
     */
    private static void decodeFor(Decoder decoder, int batchSize, int vocab, long nanos) {
        List<GenerationRequest> requests = new ArrayList<>();
        for (int s = 0; s < batchSize; s++) {
            int[] prompt = new int[8];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = 1 + (s * 31 + i * 7) % (vocab - 1);
            }
            requests.add(new GenerationRequest(prompt, 32, SamplingOptions.GREEDY));
        }
        long start = System.nanoTime();
        long best = Long.MAX_VALUE;
        int steady = 0;
        while (true) {
            long t0 = System.nanoTime();
            decoder.generateAll(requests);
            long t = System.nanoTime() - t0;
            steady = t < best * 0.9 ? 0 : steady + 1;
            best = Math.min(best, t);
            long spent = System.nanoTime() - start;
            if (spent >= MAX_WARM_UP_FACTOR * nanos || spent >= nanos && steady >= 5) {
                return;
            }
        }
    }

    /** What made the warm-up fail, after {@link #close}; null when it did not (or did not run). */
    RuntimeException failure() {
        return failure;
    }

    /** Waits for the warm-up, so that none of it outlives the run. */
    @Override
    public void close() {
        if (thread == null) {
            return;
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
