package io.mtpspark.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.engine.session.DecoderFactory;
import io.mtpspark.infra.config.ConfigBinder;
import io.mtpspark.infra.config.ConfigSource;
import io.mtpspark.infra.config.ConfigValues;
import io.mtpspark.jobs.GenerateJob;
import io.mtpspark.infra.config.ConfigException;
import io.mtpspark.infra.s3.S3Settings;
import io.mtpspark.jobs.cli.GenerateOptions;
import io.mtpspark.jobs.spark.S3aSettings;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Option binding, validation, the config hash and the S3A translation, without Spark running. */
class GenerateOptionsTest {
    private static GenerateOptions bind(String... extra) {
        String[] base = {"--input", "in.jsonl", "--output", "out", "--model", "m.bin"};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return ConfigBinder.bind(GenerateOptions.class, GenerateJob.parse(all));
    }

    @Test
    void defaultsAndValidation() {
        GenerateOptions o = bind();
        assertEquals("auto", o.decoder(), "auto: the policy picks; without an adapter it decodes autoregressively");
        assertEquals(0, o.effectiveK());
        assertEquals(128, o.maxTokens());
        assertEquals(0.05, o.speedupSample());
        assertTrue(o.jsonInput());
        ConfigException quadratic = assertThrows(ConfigException.class, () -> bind("--decoder", "quadratic", "--k", "8"));
        assertTrue(quadratic.getMessage().contains("needs --adapter"), quadratic.getMessage());
        assertThrows(ConfigException.class, () -> bind("--run-id", "../etc"));
        assertThrows(ConfigException.class, () -> bind("--backend", "tpu"));
        ConfigException typo = assertThrows(ConfigException.class, () -> bind("--max-token", "3"));
        assertTrue(typo.getMessage().contains("unknown option --max-token"), typo.getMessage());
        ConfigException noModel = assertThrows(ConfigException.class, () -> ConfigBinder.bind(GenerateOptions.class,
                GenerateJob.parse("--input", "in.jsonl", "--output", "out")));
        assertTrue(noModel.getMessage().contains("model"), noModel.getMessage());
        assertEquals(new GenerateOptions.FailurePlan(1, 4), bind("--inject-failure", "1:4").failurePlan().orElseThrow());
    }

    @Test
    void batchSizeDefaultsToOneAndIsCheckedAgainstTheEngineLimit() {
        assertEquals(1, bind().batchSize());
        assertEquals(8, bind("--batch-size", "8").batchSize());
        assertEquals(DecoderFactory.MAX_BATCH_SIZE, bind("--batch-size", "" + DecoderFactory.MAX_BATCH_SIZE).batchSize());
        for (String bad : List.of("0", "-2", "" + (DecoderFactory.MAX_BATCH_SIZE + 1))) {
            ConfigException e = assertThrows(ConfigException.class, () -> bind("--batch-size", bad));
            assertTrue(e.getMessage().contains("--batch-size: expected 1.." + DecoderFactory.MAX_BATCH_SIZE + ", got "
                    + bad), e.getMessage());
        }
        assertEquals(8, GenerationSettings.of(bind("--batch-size", "8")).batchSize(), "it reaches the tasks");
    }

    @Test
    void batchSizeComesFromAPropertiesFileOrTheEnvironmentLikeTheOtherOptions(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("job.properties"), "batch_size=6\n");
        String[] required = {"--input", "in.jsonl", "--output", "out", "--model", "m.bin"};
        ConfigValues fromFile = ConfigSource.builder().commandLine(required).propertiesFile(file).build();
        assertEquals(6, ConfigBinder.bind(GenerateOptions.class, fromFile).batchSize());
        ConfigValues fromEnv = ConfigSource.builder().commandLine(required)
                .environment(Map.of("MTP_BATCH_SIZE", "5"), "MTP_").build();
        assertEquals(5, ConfigBinder.bind(GenerateOptions.class, fromEnv).batchSize());
    }

    @Test
    void theConfigHashChangesWithTheOutputDecidingSettingsOnly() {
        String h = ConfigHash.of(bind());
        assertEquals(h, ConfigHash.of(bind("--partitions", "7", "--resume")));
        // batching never changes a row's output, so a run resumed with another batch size keeps its rows
        assertEquals(ConfigHash.of(bind("--batch-size", "1")), ConfigHash.of(bind("--batch-size", "8")));
        assertEquals(h, ConfigHash.of(bind("--batch-size", "8")));
        assertNotEquals(h, ConfigHash.of(bind("--max-tokens", "7")));
        assertNotEquals(h, ConfigHash.of(bind("--temperature", "0.8")));
        assertNotEquals(h, ConfigHash.of(bind("--adapter", "a.safetensors", "--decoder", "linear", "--k", "2")));
    }

    @Test
    void s3aGetsEndpointAndKeysOnlyWhenGiven() {
        Map<String, String> local = S3aSettings.hadoopConf(S3Settings.forEndpoint(URI.create("http://127.0.0.1:9000"),
                "us-east-1", "AK", "SK"));
        assertEquals("http://127.0.0.1:9000", local.get("fs.s3a.endpoint"));
        assertEquals("true", local.get("fs.s3a.path.style.access"));
        assertEquals("false", local.get("fs.s3a.connection.ssl.enabled"));
        assertEquals("SK", local.get("fs.s3a.secret.key"));
        assertEquals("magic", local.get("fs.s3a.committer.name"));

        Map<String, String> aws = S3aSettings.hadoopConf(S3Settings.defaultChain("eu-west-1"));
        assertEquals(Map.of("fs.s3a.committer.name", "magic", "fs.s3a.committer.magic.enabled", "true"), aws,
                "production: S3A's own default credentials chain and region discovery");
    }
}
