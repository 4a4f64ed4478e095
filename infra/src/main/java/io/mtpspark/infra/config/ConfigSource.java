package io.mtpspark.infra.config;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

/**
 * Collects configuration from the command line, a properties file, environment variables and defaults, and merges
 * them into one {@link ConfigValues} with the precedence command line &gt; properties file &gt; environment &gt;
 * defaults.
 *
 * <p>All keys are canonicalised to lower-case kebab-case: {@code --max-tokens 8}, {@code max-tokens=8} in the file
 * and {@code MTP_MAX_TOKENS=8} in the environment (with prefix {@code MTP_}) all set {@code max-tokens}. The
 * command line accepts {@code --key=value}, {@code --key value}, and a bare {@code --flag} (meaning {@code true}
 * when the next argument is another option or absent); other arguments are kept as positional arguments. If no
 * properties file was given explicitly, the command-line option {@code --config-file} names one.
 */
public final class ConfigSource {
    /** Command-line option naming a properties file, used when none was given to the builder. */
    public static final String CONFIG_FILE_KEY = "config-file";

    private ConfigSource() {
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder for one merge; each layer may be given at most once. */
    public static final class Builder {
        private final Map<String, ConfigValue> commandLine = new LinkedHashMap<>();
        private final List<String> positional = new ArrayList<>();
        private Path propertiesFile;
        private Map<String, String> environment = Map.of();
        private String envPrefix;
        private final Map<String, String> defaults = new LinkedHashMap<>();

        private Builder() {
        }

        /** Parses command-line arguments; throws {@link ConfigException} for a malformed option. */
        public Builder commandLine(String... args) {
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                if (!arg.startsWith("--") || arg.equals("--")) {
                    positional.add(arg);
                    continue;
                }
                String body = arg.substring(2);
                String key;
                String value;
                int eq = body.indexOf('=');
                if (eq >= 0) {
                    key = body.substring(0, eq);
                    value = body.substring(eq + 1);
                } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                    key = body;
                    value = args[++i];
                } else {
                    key = body;
                    value = "true";
                }
                String canonical = canonicalKey(key);
                if (canonical.isEmpty()) {
                    throw new ConfigException(null, "malformed command-line option \"" + arg + "\"");
                }
                commandLine.put(canonical, new ConfigValue(canonical, value, ConfigLayer.COMMAND_LINE, "command line"));
            }
            return this;
        }

        /** A properties file that must exist; its keys are canonicalised like command-line options. */
        public Builder propertiesFile(Path file) {
            this.propertiesFile = Objects.requireNonNull(file, "file");
            return this;
        }

        /**
         * Environment variables starting with {@code prefix} (e.g. {@code MTP_}); the rest of the name, lower-cased
         * with {@code _} turned into {@code -}, is the key. Pass {@code System.getenv()} in production.
         */
        public Builder environment(Map<String, String> env, String prefix) {
            this.environment = Map.copyOf(env);
            this.envPrefix = Objects.requireNonNull(prefix, "prefix");
            return this;
        }

        /** Built-in defaults, lowest precedence. */
        public Builder defaults(Map<String, String> values) {
            values.forEach((k, v) -> defaults.put(canonicalKey(k), v));
            return this;
        }

        public ConfigValues build() {
            Map<String, ConfigValue> merged = new LinkedHashMap<>();
            defaults.forEach((k, v) -> merged.put(k, new ConfigValue(k, v, ConfigLayer.DEFAULT, "default")));
            if (envPrefix != null) {
                environment.forEach((name, value) -> {
                    if (name.startsWith(envPrefix) && name.length() > envPrefix.length()) {
                        String key = canonicalKey(name.substring(envPrefix.length()));
                        merged.put(key, new ConfigValue(key, value, ConfigLayer.ENVIRONMENT,
                                "environment variable " + name));
                    }
                });
            }
            Path file = propertiesFile;
            if (file == null && commandLine.containsKey(CONFIG_FILE_KEY)) {
                file = Path.of(commandLine.get(CONFIG_FILE_KEY).value());
            }
            if (file != null) {
                merged.putAll(readProperties(file));
            }
            merged.putAll(commandLine);
            return new ConfigValues(merged, positional, envPrefix);
        }
    }

    private static Map<String, ConfigValue> readProperties(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(CONFIG_FILE_KEY, "--" + CONFIG_FILE_KEY + ": properties file " + file
                    + " does not exist or is not a regular file");
        }
        Properties props = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(reader);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read properties file " + file, e);
        }
        Map<String, ConfigValue> values = new LinkedHashMap<>();
        String origin = "properties file " + file;
        for (String name : props.stringPropertyNames()) {
            String key = canonicalKey(name);
            values.put(key, new ConfigValue(key, props.getProperty(name).trim(), ConfigLayer.PROPERTIES_FILE, origin));
        }
        return values;
    }

    /** Lower-case kebab-case: {@code MAX_TOKENS}, {@code max_tokens} and {@code Max-Tokens} all become {@code max-tokens}. */
    public static String canonicalKey(String raw) {
        return raw.trim().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
