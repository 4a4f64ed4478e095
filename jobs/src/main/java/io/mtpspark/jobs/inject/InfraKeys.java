package io.mtpspark.jobs.inject;

import io.mtpspark.infra.config.ConfigValues;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The configuration keys {@link io.mtpspark.infra.inject.InfraModule} reads (see infra/README.md). */
public final class InfraKeys {
    public static final List<String> KEYS = List.of("s3-endpoint", "s3-region", "s3-path-style", "s3-access-key",
            "s3-secret-key", "s3-max-attempts", "s3-retry-delay", "s3-retry-max-delay", "s3-read-timeout", "model-cache-dir",
            "allow-unverified-models");

    private InfraKeys() {
    }

    /** Only the infra keys of {@code config}, for executors to rebuild the same services. */
    public static Map<String, String> select(ConfigValues config) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String key : KEYS) {
            config.get(key).ifPresent(v -> out.put(key, v));
        }
        return out;
    }
}
