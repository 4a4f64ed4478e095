package io.mtpspark.infra.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigSourceTest {
    enum Mode { GREEDY, TOP_P }

    record JobOptions(
            URI model,
            @Positive @DefaultValue("256") int maxTokens,
            @DefaultValue("greedy") Mode mode,
            @DefaultValue("false") boolean dryRun,
            @DefaultValue("30s") Duration timeout,
            Optional<Path> output,
            @ConfigKey("tags") @DefaultValue("") List<String> labels) {
        JobOptions {
            if (dryRun && output.isPresent()) {
                throw new IllegalArgumentException("--dry-run writes no output, but --output was given");
            }
        }
    }

    @TempDir
    Path dir;

    private Path properties(String content) throws IOException {
        Path file = dir.resolve("job.properties");
        Files.writeString(file, content);
        return file;
    }

    @Test
    void commandLineBeatsFileBeatsEnvironmentBeatsDefaults() throws IOException {
        Path file = properties("max-tokens=20\nmode=top-p\nmodel=s3://file/model\n");
        ConfigValues values = ConfigSource.builder()
                .commandLine("--max-tokens", "30", "--tags=a, b", "input.jsonl")
                .propertiesFile(file)
                .environment(Map.of("MTP_MAX_TOKENS", "10", "MTP_MODEL", "s3://env/model", "MTP_TIMEOUT", "5m",
                        "MTP_MODE", "greedy", "HOME", "/root"), "MTP_")
                .defaults(Map.of("max-tokens", "1", "timeout", "1s", "output", "/tmp/default-out"))
                .build();

        JobOptions options = ConfigBinder.bind(JobOptions.class, values);

        assertEquals(30, options.maxTokens(), "command line wins");
        assertEquals(URI.create("s3://file/model"), options.model(), "file beats environment");
        assertEquals(Mode.TOP_P, options.mode(), "file beats environment");
        assertEquals(Duration.ofMinutes(5), options.timeout(), "environment beats defaults");
        assertEquals(Optional.of(Path.of("/tmp/default-out")), options.output(), "defaults fill the rest");
        assertEquals(List.of("a", "b"), options.labels());
        assertEquals(List.of("input.jsonl"), values.positional());
        assertEquals("command line", values.entry("max-tokens").orElseThrow().origin());
        assertEquals("environment variable MTP_TIMEOUT", values.entry("timeout").orElseThrow().origin());
        assertTrue(values.get("home").isEmpty(), "variables without the prefix are ignored");
    }

    @Test
    void recordDefaultsApplyWhenNothingIsGiven() {
        JobOptions options = ConfigBinder.bind(JobOptions.class, ConfigValues.of(Map.of("model", "/m")));
        assertEquals(256, options.maxTokens());
        assertEquals(Mode.GREEDY, options.mode());
        assertEquals(Duration.ofSeconds(30), options.timeout());
        assertEquals(Optional.empty(), options.output());
        assertEquals(List.of(), options.labels());
    }

    @Test
    void badValueNamesTheKeyAndTheValue() {
        ConfigValues values = ConfigSource.builder().commandLine("--model", "/m", "--max-tokens", "abc").build();
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigBinder.bind(JobOptions.class, values));
        assertEquals("--max-tokens: expected a positive integer, got \"abc\"", e.getMessage());
        assertEquals("max-tokens", e.key());

        ConfigValues negative = ConfigValues.of(Map.of("model", "/m", "max-tokens", "-3"));
        assertEquals("--max-tokens: expected a positive integer, got \"-3\"",
                assertThrows(ConfigException.class, () -> ConfigBinder.bind(JobOptions.class, negative)).getMessage());
    }

    @Test
    void badValueFromFileOrEnvironmentSaysWhereItCameFrom() throws IOException {
        Path file = properties("mode=fastest\n");
        ConfigValues fromFile = ConfigSource.builder().commandLine("--model=/m", "--config-file", file.toString()).build();
        assertEquals("--mode: expected one of greedy, top-p, got \"fastest\" (from properties file " + file + ")",
                assertThrows(ConfigException.class, () -> ConfigBinder.bind(JobOptions.class, fromFile)).getMessage());

        ConfigValues fromEnv = ConfigSource.builder().commandLine("--model=/m")
                .environment(Map.of("MTP_DRY_RUN", "yes"), "MTP_").build();
        assertEquals("--dry-run: expected true or false, got \"yes\" (from environment variable MTP_DRY_RUN)",
                assertThrows(ConfigException.class, () -> ConfigBinder.bind(JobOptions.class, fromEnv)).getMessage());
    }

    @Test
    void missingRequiredAndUnknownOptionsAreReported() {
        ConfigValues empty = ConfigSource.builder().commandLine().environment(Map.of(), "MTP_").build();
        assertEquals("missing required option --model (set it on the command line, as model=... in the properties "
                        + "file, or environment variable MTP_MODEL)",
                assertThrows(ConfigException.class, () -> ConfigBinder.bind(JobOptions.class, empty)).getMessage());

        ConfigValues typo = ConfigSource.builder().commandLine("--model=/m", "--max-token=5").build();
        ConfigException e = assertThrows(ConfigException.class,
                () -> typo.rejectUnknown(ConfigBinder.keysOf(JobOptions.class)));
        assertTrue(e.getMessage().startsWith("unknown option --max-token; known options: "), e.getMessage());
        assertTrue(e.getMessage().contains("--max-tokens"), e.getMessage());
    }

    @Test
    void recordValidationBecomesAConfigError() {
        ConfigValues values = ConfigSource.builder().commandLine("--model=/m", "--dry-run", "--output", "/o").build();
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigBinder.bind(JobOptions.class, values));
        assertEquals("invalid JobOptions: --dry-run writes no output, but --output was given", e.getMessage());
    }

    @Test
    void missingPropertiesFileIsAnError() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigSource.builder().propertiesFile(dir.resolve("absent.properties")).build());
        assertTrue(e.getMessage().contains("absent.properties does not exist"), e.getMessage());
    }
}
