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
import io.mtpspark.jobs.spark.S3aClientFactory;
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
        assertEquals(new GenerateOptions.FailurePlan(1, 4, 0), bind("--inject-failure", "1:4").failurePlan().orElseThrow());
        assertEquals(new GenerateOptions.FailurePlan(2, 1, 9000), bind("--inject-failure", "2:1:9000").failurePlan().orElseThrow());
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

    private static final ModelIdentities CONTENT = new ModelIdentities("sha256:aa", null, null, true);

    @Test
    void theConfigHashChangesWithTheOutputDecidingSettingsOnly() {
        String h = ConfigHash.of(bind(), CONTENT);
        assertEquals(h, ConfigHash.of(bind("--partitions", "7", "--resume", "--run-id", "r"), CONTENT));
        // batching never changes a row's output, so a run resumed with another batch size keeps its rows
        assertEquals(ConfigHash.of(bind("--batch-size", "1"), CONTENT), ConfigHash.of(bind("--batch-size", "8"), CONTENT));
        assertEquals(h, ConfigHash.of(bind("--batch-size", "8"), CONTENT));
        assertNotEquals(h, ConfigHash.of(bind("--max-tokens", "7"), CONTENT));
        assertNotEquals(h, ConfigHash.of(bind("--temperature", "0.8"), CONTENT));
        assertNotEquals(h, ConfigHash.of(bind("--adapter", "a.safetensors", "--decoder", "linear", "--k", "2"),
                new ModelIdentities("sha256:aa", null, "sha256:bb", true)));
    }

    /** Issue 17: the hash followed the model's location, so ./m.bin and /abs/m.bin were two configurations. */
    @Test
    void theConfigHashFollowsContentNotLocation() {
        String h = ConfigHash.of(bind(), CONTENT);
        String[] spelled = {"--input", "in.jsonl", "--output", "out", "--model", "/abs/path/to/m.bin"};
        assertEquals(h, ConfigHash.of(ConfigBinder.bind(GenerateOptions.class, GenerateJob.parse(spelled)), CONTENT));
        assertNotEquals(h, ConfigHash.of(bind(), new ModelIdentities("sha256:cc", null, null, true)),
                "new weights at the same path are a new configuration");
        assertNotEquals(h, ConfigHash.of(bind(), new ModelIdentities("sha256:aa", "sha256:dd", null, true)));
    }

    /** Issue 17: --resume without --run-id ran under a new random id; the CLI and the job disagreed on values. */
    @Test
    void resumeNeedsARunIdAndGenerationSettingsUseTheSharedChecks() {
        ConfigException resume = assertThrows(ConfigException.class, () -> bind("--resume"));
        assertTrue(resume.getMessage().contains("--resume needs --run-id"), resume.getMessage());
        ConfigException k = assertThrows(ConfigException.class, () -> bind("--k", "-3"));
        assertTrue(k.getMessage().contains("--k must be >= 0 (0 = all of the adapter's), got -3"), k.getMessage());
        ConfigException max = assertThrows(ConfigException.class, () -> bind("--max-tokens", "0"));
        assertTrue(max.getMessage().contains("--max-tokens must be >= 1, got 0"), max.getMessage());
        ConfigException temp = assertThrows(ConfigException.class, () -> bind("--temperature", "-1"));
        assertTrue(temp.getMessage().contains("--temperature must be a finite number >= 0, got -1.0"), temp.getMessage());
        assertTrue(bind("--resume", "--run-id", "r").retryErrors(), "error rows are retried on resume by default");
        assertTrue(!bind("--resume", "--run-id", "r", "--no-retry-errors").retryErrors());
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

        Map<String, String> aws = new java.util.HashMap<>(S3aSettings.hadoopConf(S3Settings.defaultChain("eu-west-1")));
        aws.keySet().removeIf(k -> k.startsWith("fs.s3a.retry.") || k.startsWith("mtp.s3.")
                || k.equals("fs.s3a.attempts.maximum") || k.equals("fs.s3a.s3.client.factory.impl")
                || k.equals("fs.s3a.connection.timeout") || k.equals("fs.s3a.input.stream.type"));
        assertEquals(Map.of("fs.s3a.committer.name", "magic", "fs.s3a.committer.magic.enabled", "true"), aws,
                "production: S3A's own default credentials chain and region discovery");
    }

    @Test
    void s3aRetriesFollowTheJobsRetryPolicy() {
        Map<String, String> conf = S3aSettings.hadoopConf(S3Settings.fromConfig(GenerateJob.parse("--s3-max-attempts",
                "6", "--s3-retry-delay", "10ms", "--s3-read-timeout", "2s")));
        assertEquals(S3aClientFactory.class.getName(), conf.get("fs.s3a.s3.client.factory.impl"));
        assertEquals("6", conf.get(S3aClientFactory.MAX_ATTEMPTS));
        assertEquals("10ms", conf.get(S3aClientFactory.RETRY_DELAY));
        assertEquals("5", conf.get("fs.s3a.attempts.maximum"));
        assertEquals("2", conf.get("fs.s3a.retry.limit"), "each invoker retry repeats the SDK's attempts");
        assertEquals("10ms", conf.get("fs.s3a.retry.interval"));
        assertEquals("10ms", conf.get("fs.s3a.retry.throttle.interval"));
        assertEquals("2000ms", conf.get("fs.s3a.connection.timeout"));
        assertEquals("classic", conf.get("fs.s3a.input.stream.type"), "reads retried by the invoker");
        Map<String, String> defaults = S3aSettings.hadoopConf(S3Settings.defaultChain("us-east-1"));
        assertEquals("10", defaults.get(S3aClientFactory.MAX_ATTEMPTS));
        assertEquals("20000ms", defaults.get(S3aClientFactory.RETRY_MAX_DELAY));
        assertEquals("200ms", defaults.get("fs.s3a.retry.interval"));
        assertEquals("60000ms", defaults.get("fs.s3a.connection.timeout"));
        ConfigException bad = assertThrows(ConfigException.class, () -> S3Settings.fromConfig(GenerateJob.parse(
                "--s3-max-attempts", "0")));
        assertTrue(bad.getMessage().contains("--s3-max-attempts") && bad.getMessage().contains("at least 1"),
                bad.getMessage());
    }
}
