package io.mtpspark.infra.store;

import io.mtpspark.infra.config.ConfigValues;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Options shared by the model stores. {@code cacheDir} is the executor-local directory remote models are downloaded
 * to (default {@code ${java.io.tmpdir}/mtp-model-cache}); {@code allowUnverified} lets a model without
 * {@code manifest.json} be used (content that has a manifest is always verified).
 *
 * <p>Configuration keys read by {@link #fromConfig}: {@code model-cache-dir}, {@code allow-unverified-models}.
 */
public record ModelStoreOptions(Path cacheDir, boolean allowUnverified) {
    public ModelStoreOptions {
        Objects.requireNonNull(cacheDir, "cacheDir");
    }

    public static ModelStoreOptions defaults() {
        return new ModelStoreOptions(defaultCacheDir(), false);
    }

    public static Path defaultCacheDir() {
        return Path.of(System.getProperty("java.io.tmpdir"), "mtp-model-cache");
    }

    public ModelStoreOptions withAllowUnverified(boolean allow) {
        return new ModelStoreOptions(cacheDir, allow);
    }

    public static ModelStoreOptions fromConfig(ConfigValues values) {
        return new ModelStoreOptions(
                values.get("model-cache-dir", Path.class).orElseGet(ModelStoreOptions::defaultCacheDir),
                values.get("allow-unverified-models", Boolean.class).orElse(false));
    }
}
