package io.mtpspark.jobs.generate;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.infra.config.ConfigBinder;
import io.mtpspark.infra.config.ConfigValues;
import io.mtpspark.infra.store.ModelPublisher;
import io.mtpspark.infra.testing.ModelFixture;
import io.mtpspark.infra.testing.S3ProxyServer;
import io.mtpspark.jobs.ReportJob;
import io.mtpspark.jobs.cli.ReportOptions;
import io.mtpspark.jobs.report.ReportRun;
import io.mtpspark.jobs.testing.Inputs;
import io.mtpspark.jobs.testing.JobRunner;
import io.mtpspark.jobs.testing.SharedSpark;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Against a real S3-compatible server (s3proxy in its own JVM on 127.0.0.1, signatures checked): model and input
 * come from S3, outputs go to S3 through S3A with the magic committer, and are read back with the SDK and Spark.
 */
@ExtendWith(S3ProxyServer.Extension.class)
class GenerateJobS3Test {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private String[] s3Args(S3ProxyServer s3) {
        return new String[]{"--s3-endpoint", s3.endpoint().toString(), "--s3-access-key", S3ProxyServer.ACCESS_KEY,
                "--s3-secret-key", S3ProxyServer.SECRET_KEY, "--model-cache-dir", tmp.resolve("cache").toString()};
    }

    private String publishModel(S3ProxyServer s3, String bucket, String prefix) throws Exception {
        Path local = ModelFixture.copyModel(tmp.resolve(prefix));
        new ModelPublisher(s3.client()).publish(local, URI.create("s3://" + bucket + "/" + prefix + "/"));
        return "s3://" + bucket + "/" + prefix + "/";
    }

    private static void put(S3ProxyServer s3, String bucket, String key, byte[] bytes) {
        s3.client().putObject(PutObjectRequest.builder().bucket(bucket).key(key).build(), RequestBody.fromBytes(bytes));
    }

    @Test
    void modelAndInputFromS3OutputsThroughTheMagicCommitter(S3ProxyServer s3) throws Exception {
        String bucket = s3.newBucket();
        String model = publishModel(s3, bucket, "models/stories260K");
        Path localInput = Inputs.writeJsonl(tmp.resolve("in.jsonl"), Inputs.rows(16));
        put(s3, bucket, "in/prompts.jsonl", Files.readAllBytes(localInput));
        String out = "s3a://" + bucket + "/out";

        RunResult result = JobRunner.run(concat(s3Args(s3), "--input", "s3a://" + bucket + "/in/prompts.jsonl",
                "--output", out, "--model", model, "--run-id", "s3run", "--max-tokens", "8", "--partitions", "2"));
        assertEquals(16, result.summary().rows());

        List<String> keys = s3.client().listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket)
                .prefix("out/").build()).contents().stream().map(S3Object::key).toList();
        assertTrue(keys.stream().anyMatch(k -> k.startsWith("out/generations/run_id=s3run/part-") && k.endsWith(".parquet")), keys.toString());
        assertTrue(keys.stream().anyMatch(k -> k.startsWith("out/task_stats/run_id=s3run/part-")), keys.toString());
        assertTrue(keys.contains("out/manifests/s3run.json"), keys.toString());
        assertFalse(keys.stream().anyMatch(k -> k.contains("__magic")), "no magic paths left behind: " + keys);

        // The S3A committers write a JSON _SUCCESS naming themselves; the classic committer writes an empty file.
        JsonNode success = JSON.readTree(s3.client().getObjectAsBytes(b -> b.bucket(bucket).key("out/generations/_SUCCESS")).asByteArray());
        assertEquals("magic", success.get("committer").asText());

        JsonNode manifest = JSON.readTree(s3.client().getObjectAsBytes(b -> b.bucket(bucket).key("out/manifests/s3run.json")).asByteArray());
        assertEquals(16, manifest.get("rows").get("run_total").asInt());
        String manifestText = manifest.toString();
        assertFalse(manifestText.contains(S3ProxyServer.SECRET_KEY), "credentials never reach the manifest");
        assertFalse(manifestText.contains(S3ProxyServer.ACCESS_KEY), "credentials never reach the manifest");

        Dataset<Row> gens = SharedSpark.session().read().parquet(out + "/generations").where(col("run_id").equalTo("s3run"));
        assertEquals(16, gens.count());
        assertEquals(16, gens.select("id").distinct().count());
        assertEquals(0, gens.where(col("finish_reason").equalTo("error")).count());
        assertEquals(16L, SharedSpark.session().read().parquet(out + "/task_stats").selectExpr("sum(rows)").first().getLong(0));

        // The cost report as the deployment runs it: --runs the output root, --out reports/ below it, all on S3.
        ConfigValues reportConfig = ReportJob.parse(concat(s3Args(s3), "--runs", out + "/", "--out", out + "/reports/",
                "--instance-type", "g6.xlarge"));
        ReportRun.Result report = ReportJob.run(SharedSpark.session(), reportConfig,
                ConfigBinder.bind(ReportOptions.class, reportConfig));
        assertEquals(16, report.data().total().rows());
        List<String> reportKeys = s3.client().listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket)
                .prefix("out/reports/").build()).contents().stream().map(S3Object::key).toList();
        assertTrue(reportKeys.contains("out/reports/dashboard.html"), reportKeys.toString());
        assertTrue(reportKeys.stream().anyMatch(k -> k.startsWith("out/reports/by_run/part-")), reportKeys.toString());
        JsonNode reportSuccess = JSON.readTree(s3.client().getObjectAsBytes(b -> b.bucket(bucket).key("out/reports/by_run/_SUCCESS")).asByteArray());
        assertEquals("magic", reportSuccess.get("committer").asText());
        Row byRun = SharedSpark.session().read().parquet(out + "/reports/by_run").first();
        assertEquals("s3run", byRun.getString(byRun.fieldIndex("run_id")));
        assertEquals("g6.xlarge", byRun.getString(byRun.fieldIndex("instance_type")));
    }

    @Test
    void aCorruptModelInS3FailsTheJobWithAChecksumError(S3ProxyServer s3) throws Exception {
        String bucket = s3.newBucket();
        String model = publishModel(s3, bucket, "models/corrupt");
        byte[] weights = Files.readAllBytes(SharedSpark.modelDir().resolve("stories260K.bin"));
        weights[weights.length / 2] ^= 0x5A; // same size, different content: only the SHA-256 can tell
        put(s3, bucket, "models/corrupt/stories260K.bin", weights);
        Path input = Inputs.writeJsonl(tmp.resolve("in.jsonl"), Inputs.rows(4));

        JobFailedException e = assertThrows(JobFailedException.class, () -> JobRunner.run(concat(s3Args(s3),
                "--input", input.toString(), "--output", tmp.resolve("out").toString(), "--model", model,
                "--max-tokens", "4", "--partitions", "1")));
        assertTrue(e.getMessage().contains("stories260K.bin") && e.getMessage().contains("checksum mismatch"),
                e.getMessage());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
