package io.mtpspark.infra.config;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The merged result of a {@link ConfigSource}: an immutable map from canonical key to value, where each value
 * remembers its origin for error messages. Typed access goes through {@link #get(String, Class)} or, for whole
 * option records, {@link ConfigBinder}.
 */
public final class ConfigValues {
    private final Map<String, ConfigValue> values;
    private final List<String> positional;
    private final String envPrefix;

    ConfigValues(Map<String, ConfigValue> values, List<String> positional, String envPrefix) {
        this.values = Map.copyOf(values);
        this.positional = List.copyOf(positional);
        this.envPrefix = envPrefix;
    }

    /** Values built from a plain map, as if given on the command line (handy for tests and embedding). */
    public static ConfigValues of(Map<String, String> map) {
        Map<String, ConfigValue> values = new LinkedHashMap<>();
        map.forEach((k, v) -> {
            String key = ConfigSource.canonicalKey(k);
            values.put(key, new ConfigValue(key, v, ConfigLayer.COMMAND_LINE, "command line"));
        });
        return new ConfigValues(values, List.of(), null);
    }

    /** Effective values as a plain map (key to value). */
    public Map<String, String> asMap() {
        Map<String, String> map = new LinkedHashMap<>();
        new TreeSet<>(values.keySet()).forEach(k -> map.put(k, values.get(k).value()));
        return map;
    }

    public Optional<String> get(String key) {
        return entry(key).map(ConfigValue::value);
    }

    public Optional<ConfigValue> entry(String key) {
        return Optional.ofNullable(values.get(ConfigSource.canonicalKey(key)));
    }

    /** The value converted to {@code type}; empty when absent. See {@link ConfigBinder} for the supported types. */
    public <T> Optional<T> get(String key, Class<T> type) {
        return entry(key).map(v -> type.cast(ValueConverter.convert(v, type, false)));
    }

    /** The value or a {@link ConfigException} telling the user every way to set it. */
    public String require(String key) {
        return get(key).orElseThrow(() -> missing(ConfigSource.canonicalKey(key)));
    }

    public List<String> positional() {
        return positional;
    }

    /**
     * Fails on keys given on the command line or in the properties file that no part of the program reads, so a
     * typo such as {@code --max-token} does not silently fall back to a default. Environment variables and
     * defaults are not checked: a shared prefix may carry options for other programs.
     */
    public void rejectUnknown(Collection<String> knownKeys) {
        Set<String> known = new TreeSet<>();
        knownKeys.forEach(k -> known.add(ConfigSource.canonicalKey(k)));
        known.add(ConfigSource.CONFIG_FILE_KEY);
        for (ConfigValue v : new TreeSet<>(values.keySet()).stream().map(values::get).toList()) {
            boolean userGiven = v.layer() == ConfigLayer.COMMAND_LINE || v.layer() == ConfigLayer.PROPERTIES_FILE;
            if (userGiven && !known.contains(v.key())) {
                throw new ConfigException(v.key(), "unknown option --" + v.key() + ConfigValues.originSuffix(v)
                        + "; known options: " + String.join(", ", known.stream().map(k -> "--" + k).toList()));
            }
        }
    }

    ConfigException missing(String key) {
        String env = envPrefix == null ? "" : ", or environment variable "
                + envPrefix + key.toUpperCase(Locale.ROOT).replace('-', '_');
        return new ConfigException(key, "missing required option --" + key + " (set it on the command line, as "
                + key + "=... in the properties file" + env + ")");
    }

    static String originSuffix(ConfigValue v) {
        return v.layer() == ConfigLayer.COMMAND_LINE ? "" : " (from " + v.origin() + ")";
    }

    /** Lists keys and origins but never values, so logging it cannot leak a secret. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ConfigValues{");
        new TreeSet<>(values.keySet()).forEach(k -> sb.append(k).append(" <- ").append(values.get(k).origin()).append("; "));
        return sb.append('}').toString();
    }
}
