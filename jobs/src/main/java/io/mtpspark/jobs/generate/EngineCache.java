package io.mtpspark.jobs.generate;

import io.mtpspark.infra.config.ConfigValues;
import io.mtpspark.infra.inject.InfraModule;
import io.mtpspark.infra.store.ModelStore;
import io.mtpspark.infra.store.ModelStoreOptions;
import com.google.inject.Guice;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-JVM holder of loaded engines and of the infra services executors need. Spark runs many tasks in one executor
 * JVM; each asks here, and the first one for a given (model, tokenizer, adapter) loads it while later ones wait and
 * then share it. Weights therefore go from the store to each executor once and never through the driver (they are
 * not broadcast). Entries live as long as the JVM: an executor serves one job.
 */
public final class EngineCache {
    private static final Map<String, LoadedEngine> ENGINES = new ConcurrentHashMap<>();
    private static final Map<Map<String, String>, ModelStore> STORES = new ConcurrentHashMap<>();

    private EngineCache() {
    }

    /** The engine for these locations, loading it on first use in this JVM. */
    public static LoadedEngine engine(Map<String, String> infraConfig, String model, Optional<String> tokenizer,
                                      Optional<String> adapter, ModelIdentities expected) {
        // Keyed by content too: a rerun in the same JVM after the model changed loads the new one.
        String key = model + "\u0000" + tokenizer.orElse("") + "\u0000" + adapter.orElse("") + "\u0000" + expected;
        boolean allowUnverified = ModelStoreOptions.fromConfig(ConfigValues.of(infraConfig)).allowUnverified();
        // computeIfAbsent blocks concurrent callers for the same key until the load finishes; a failed load
        // leaves no entry, so the next task tries again.
        return ENGINES.computeIfAbsent(key, k -> LoadedEngine.load(modelStore(infraConfig), model, tokenizer, adapter,
                allowUnverified, expected));
    }

    /** One model store (and S3 client) per distinct infra configuration in this JVM. */
    public static ModelStore modelStore(Map<String, String> infraConfig) {
        return STORES.computeIfAbsent(Map.copyOf(infraConfig), cfg -> Guice.createInjector(
                new InfraModule(ConfigValues.of(cfg))).getInstance(ModelStore.class));
    }

    /** Drops cached engines (tests use this to force a reload). */
    public static void clear() {
        ENGINES.clear();
    }
}
