package io.mtpspark.jobs.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.infra.config.ConfigBinder;
import io.mtpspark.infra.config.ConfigValues;
import io.mtpspark.infra.store.ModelPublisher;
import io.mtpspark.infra.testing.ModelFixture;
import io.mtpspark.infra.testing.S3ProxyServer;
import io.mtpspark.jobs.ReportJob;
import io.mtpspark.jobs.cli.ReportOptions;
import io.mtpspark.jobs.generate.ModelRejectedException;
import io.mtpspark.jobs.generate.RunResult;
import io.mtpspark.jobs.testing.Inputs;
import io.mtpspark.jobs.testing.JobRunner;
import io.mtpspark.jobs.testing.LogCapture;
import io.mtpspark.jobs.testing.SharedSpark;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Issue 17, item 7: with known fake keys (s3proxy's), run the S3 job (with an error row), the cost report and a run
 * with a wrong secret, capturing every log line at INFO and above; then search the logs, every object the runs wrote
 * to S3 (generations, task_stats, manifests, dashboard), the local report, the model cache and the error messages
 * for the keys. None may appear.
 */
@ExtendWith(S3ProxyServer.Extension.class)
class SecretsTest {
    private static final String WRONG_SECRET = "FAKE-wrong-secret-0123456789abcdef";

    @TempDir
    Path tmp;

    @Test
    void credentialsNeverAppearInLogsOutputsManifestsErrorRowsOrTheDashboard(S3ProxyServer s3) throws Exception {
        String bucket = s3.newBucket();
        Path local = ModelFixture.copyModel(tmp.resolve("model"));
        new ModelPublisher(s3.client()).publish(local, URI.create("s3://" + bucket + "/models/m/"));
        List<java.util.Map<String, Object>> rows = Inputs.rows(6);
        rows.add(java.util.Map.of("id", "bad", "prompt", "Once", "max_tokens", 0));
        byte[] input = Files.readAllBytes(Inputs.writeJsonl(tmp.resolve("in.jsonl"), rows));
        s3.client().putObject(PutObjectRequest.builder().bucket(bucket).key("in/p.jsonl").build(),
                RequestBody.fromBytes(input));
        Path cache = tmp.resolve("cache");
        String out = "s3a://" + bucket + "/out";
        List<String> found = new ArrayList<>();
        String logs;
        // INFO, the most a cluster logs. (At DEBUG, HTTP wire logging shows the access key id inside the signed
        // Authorization header; the secret key never travels, so no level can log it.)
        try (LogCapture capture = new LogCapture(org.apache.logging.log4j.Level.INFO)) {
            RunResult result = JobRunner.run("--s3-endpoint", s3.endpoint().toString(), "--s3-access-key",
                    S3ProxyServer.ACCESS_KEY, "--s3-secret-key", S3ProxyServer.SECRET_KEY, "--model-cache-dir",
                    cache.toString(), "--input", "s3a://" + bucket + "/in/p.jsonl", "--output", out,
                    "--model", "s3://" + bucket + "/models/m/", "--run-id", "sec", "--max-tokens", "3",
                    "--partitions", "2");
            assertEquals(1, result.summary().errors(), "an error row is among the outputs searched");
            found.add(result.toString());
            ConfigValues report = ReportJob.parse("--s3-endpoint", s3.endpoint().toString(), "--s3-access-key",
                    S3ProxyServer.ACCESS_KEY, "--s3-secret-key", S3ProxyServer.SECRET_KEY, "--runs", out + "/",
                    "--out", tmp.resolve("report").toString());
            ReportJob.run(SharedSpark.session(), report, ConfigBinder.bind(ReportOptions.class, report));
            ModelRejectedException wrong = assertThrows(ModelRejectedException.class, () -> JobRunner.run(
                    "--s3-endpoint", s3.endpoint().toString(), "--s3-access-key", S3ProxyServer.ACCESS_KEY,
                    "--s3-secret-key", WRONG_SECRET, "--model-cache-dir", cache.toString(),
                    "--input", tmp.resolve("in.jsonl").toString(), "--output", tmp.resolve("out2").toString(),
                    "--model", "s3://" + bucket + "/models/m/"));
            found.add(wrong.getMessage());
            logs = capture.text();
        }
        found.add(logs);
        assertTrue(logs.contains("DAGScheduler") && logs.contains("INFO"), "the capture saw the run's logs");
        int objects = 0;
        for (S3Object o : s3.client().listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket).build())
                .contents()) {
            found.add(o.key() + ": " + new String(s3.client().getObjectAsBytes(b -> b.bucket(bucket).key(o.key()))
                    .asByteArray(), StandardCharsets.ISO_8859_1));
            objects++;
        }
        int files = 0;
        for (Path root : List.of(tmp.resolve("report"), cache)) {
            try (Stream<Path> walk = Files.walk(root)) {
                for (Path f : walk.filter(Files::isRegularFile).toList()) {
                    found.add(f + ": " + new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
                    files++;
                }
            }
        }
        assertTrue(objects > 5 && files > 3, objects + " objects, " + files + " files");
        for (String secret : List.of(S3ProxyServer.SECRET_KEY, S3ProxyServer.ACCESS_KEY, WRONG_SECRET)) {
            for (String text : found) {
                int at = text.indexOf(secret);
                assertFalse(at >= 0, "credential " + secret + " found: …"
                        + text.substring(Math.max(0, at - 200), Math.min(text.length(), at + 50)));
            }
        }
        System.out.printf("[reliability] secrets: searched %d log chars, %d S3 objects, %d local files: 0 hits%n",
                logs.length(), objects, files);
    }
}
