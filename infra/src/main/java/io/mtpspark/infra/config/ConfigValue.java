package io.mtpspark.infra.config;

import java.util.Objects;

/**
 * One effective configuration value together with where it came from. {@code origin} is a human-readable
 * description such as {@code environment variable MTP_MAX_TOKENS}; it is used in error messages.
 */
public record ConfigValue(String key, String value, ConfigLayer layer, String origin) {
    public ConfigValue {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(layer, "layer");
        Objects.requireNonNull(origin, "origin");
    }
}
