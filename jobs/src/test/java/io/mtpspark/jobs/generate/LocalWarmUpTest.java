package io.mtpspark.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.engine.goodput.CostCalibrator;
import io.mtpspark.engine.decode.AdaptiveDecoder;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.goodput.ForwardCostModel;
import io.mtpspark.engine.goodput.GoodputPolicy;
import io.mtpspark.engine.session.DecoderFactory;
import io.mtpspark.engine.tensor.CpuBackend;
import io.mtpspark.jobs.schema.GenerationRecord;
import io.mtpspark.jobs.schema.PromptRow;
import io.mtpspark.jobs.stats.TaskIdentity;
import io.mtpspark.jobs.testing.SharedSpark;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The local master's warm-up: it leaves in this JVM exactly what the tasks then use (the engine, the cost model under
 * the tasks' key), the tasks decode as they would without it, and it stays out of the way where it does not apply or
 * fails.
 */
class LocalWarmUpTest {
    private static final ModelIdentities ANY_CONTENT = PartitionGeneratorTest.ANY_CONTENT;
    private static final String MODEL = SharedSpark.modelDir().toString();
    private static final String ADAPTER = SharedSpark.modelDir().resolve("mtp-adapter.safetensors").toString();

    @BeforeEach
    @AfterEach
    void forget() {
        EngineCache.clear();
        CostCalibrator.clearCache();
    }

    private static GenerationSettings auto(String backend, String adapter) {
        return new GenerationSettings(MODEL, null, adapter, "auto", 0, 4, backend, 1, 0, 24, 0, 0, 1, 0, 0.0, null);
    }

    /** The key a task's auto decoder calibrates under. */
    private static String taskKey(LoadedEngine engine) {
        try (CpuBackend cpu = new CpuBackend(1)) {
            return DecoderFactory.calibrationKey(engine.bundle().model(), cpu, "cpu");
        }
    }

    private static List<GenerationRecord> generate(GenerationSettings settings, LoadedEngine engine) {
        List<PromptRow> rows = new ArrayList<>();
        String[] prompts = {"Once upon a time", "Lily wanted to", "The little dog", "One day, a boy named Tim",
            "The sun was"};
        for (int i = 0; i < prompts.length; i++) {
            rows.add(new PromptRow("r" + i, prompts[i].getBytes(StandardCharsets.UTF_8), "d", null, null, null));
        }
        List<GenerationRecord> out = new ArrayList<>();
        new PartitionGenerator(settings, engine, "cfg", new TaskIdentity("run", 0, 0, 0, "driver", "localhost"),
                "cpu", 1).generate(rows.iterator(), s -> { }).forEachRemaining(out::add);
        return out;
    }

    @Test
    void theTasksFindTheEngineAndTheCostModelTheWarmUpLeftAndDecodeExactly() {
        GenerationSettings settings = auto("cpu", ADAPTER);
        LocalWarmUp warmUp = LocalWarmUp.start(true, settings, Map.of(), ANY_CONTENT, 1);
        warmUp.close();
        assertNull(warmUp.failure());
        LoadedEngine engine = EngineCache.engine(Map.of(), MODEL, settings.tokenizerLocation(),
                settings.adapterLocation(), ANY_CONTENT);
        ForwardCostModel warmed = CostCalibrator.cachedModel(taskKey(engine)).orElseThrow(
                () -> new AssertionError("no cost model cached under the key a task looks up"));
        // the decoder a task makes (as PartitionGenerator does), asked for its cost model, gets that one, unmeasured
        try (CpuBackend cpu = new CpuBackend(1)) {
            Decoder task = DecoderFactory.create(settings.decoder(), engine.bundle().model(), cpu, engine.adapter(),
                    settings.k(), settings.context(), settings.batchSize(), "cpu");
            GoodputPolicy policy = (GoodputPolicy) ((AdaptiveDecoder) task).chooser();
            assertTrue(policy.calibrateNow());
            assertSame(warmed, policy.cost(), "the task calibrated again instead of using the warm-up's cost model");
        }
        List<GenerationRecord> withAuto = generate(settings, engine);
        // a warm-up must not change what is generated: auto's output is autoregressive's, token for token
        LoadedEngine plain = LoadedEngine.load(EngineCache.modelStore(Map.of()), MODEL, java.util.Optional.empty(),
                java.util.Optional.empty(), false, ANY_CONTENT);
        List<GenerationRecord> ar = generate(new GenerationSettings(MODEL, null, null, "autoregressive", 0, 4, "cpu",
                1, 0, 24, 0, 0, 1, 0, 0.0, null), plain);
        assertEquals(ar.size(), withAuto.size());
        for (int i = 0; i < ar.size(); i++) {
            assertEquals(ar.get(i).id(), withAuto.get(i).id());
            assertEquals(ar.get(i).completion(), withAuto.get(i).completion(), ar.get(i).id());
            assertEquals(24, withAuto.get(i).completionTokens(), ar.get(i).id());
        }
    }

    @Test
    void nothingRunsOffALocalMasterForADeviceBackendOrADecoderThatDoesNotCalibrate() {
        LocalWarmUp.start(false, auto("cpu", ADAPTER), Map.of(), ANY_CONTENT, 1).close();
        LocalWarmUp.start(true, auto("emulated", ADAPTER), Map.of(), ANY_CONTENT, 1).close();
        LocalWarmUp.start(true, new GenerationSettings(MODEL, null, ADAPTER, "linear", 2, 4, "cpu", 1, 0, 24, 0, 0, 1,
                0, 0.0, null), Map.of(), ANY_CONTENT, 1).close();
        LoadedEngine engine = EngineCache.engine(Map.of(), MODEL, java.util.Optional.empty(),
                java.util.Optional.of(ADAPTER), ANY_CONTENT);
        assertTrue(CostCalibrator.cachedModel(taskKey(engine)).isEmpty());
        assertTrue(LocalWarmUp.onCpu("cpu"));
        assertFalse(LocalWarmUp.onCpu("emulated"));
        assertFalse(LocalWarmUp.onCpu("cuda"));
    }

    @Test
    void aWarmUpThatFailsKeepsItsErrorToItselfAndCalibratesNothing() {
        String missing = SharedSpark.modelDir().resolve("no-such-adapter.safetensors").toString();
        LocalWarmUp warmUp = LocalWarmUp.start(true, auto("cpu", missing), Map.of(), ANY_CONTENT, 1);
        warmUp.close(); // no exception: the job goes on, and its tasks meet the error themselves
        assertNotNull(warmUp.failure(), "the warm-up tried and failed");
        assertTrue(warmUp.failure().getMessage().contains("no-such-adapter.safetensors"), warmUp.failure().toString());
        RuntimeException task = assertThrows(RuntimeException.class, () -> EngineCache.engine(Map.of(), MODEL,
                java.util.Optional.empty(), java.util.Optional.of(missing), ANY_CONTENT));
        assertEquals(warmUp.failure().getClass(), task.getClass());
        LoadedEngine engine = EngineCache.engine(Map.of(), MODEL, java.util.Optional.empty(),
                java.util.Optional.of(ADAPTER), ANY_CONTENT);
        assertTrue(CostCalibrator.cachedModel(taskKey(engine)).isEmpty(), "a failed warm-up calibrated nothing");
    }
}
