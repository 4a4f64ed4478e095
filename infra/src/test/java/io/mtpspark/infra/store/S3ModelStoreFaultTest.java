package io.mtpspark.infra.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.infra.s3.S3ClientFactory;
import io.mtpspark.infra.s3.S3RetryPolicy;
import io.mtpspark.infra.s3.S3Settings;
import io.mtpspark.infra.testing.FaultProxy;
import io.mtpspark.infra.testing.FaultProxy.Fault;
import io.mtpspark.infra.testing.FaultProxy.FaultPlan;
import io.mtpspark.infra.testing.ModelFixture;
import io.mtpspark.infra.testing.S3ProxyServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Issue 17, item 3, model side: the model store downloading through {@link FaultProxy} in front of s3proxy. Each
 * fault kind reaches the SDK as S3 and networks would present it; every request of a download failing twice in a
 * row is ridden out by the retry policy (a reset mid-body included) and the cache holds exactly the published
 * bytes; a permanent fault fails with one message naming the location and leaves no cache entry.
 */
@ExtendWith(S3ProxyServer.Extension.class)
class S3ModelStoreFaultTest {
    /** Fast retries for tests: a stalled request is given up after 400 ms. */
    static final S3RetryPolicy FAST = new S3RetryPolicy(4, Duration.ofMillis(10), Duration.ofMillis(100),
            Duration.ofMillis(400));

    private final S3ProxyServer server;
    private FaultProxy proxy;
    private URI modelUri;
    private Path model;

    @TempDir
    Path scratch;

    S3ModelStoreFaultTest(S3ProxyServer server) {
        this.server = server;
    }

    @BeforeEach
    void start() throws IOException {
        proxy = FaultProxy.start(server.endpoint());
        model = ModelFixture.copyModel(scratch.resolve("model"));
        modelUri = URI.create("s3://" + server.newBucket() + "/models/stories260K/");
        new ModelPublisher(server.client()).publish(model, modelUri);
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
    }

    private S3Client client(S3RetryPolicy policy) {
        return S3ClientFactory.create(S3Settings.forEndpoint(proxy.endpoint(), "us-east-1", S3ProxyServer.ACCESS_KEY,
                S3ProxyServer.SECRET_KEY).withRetries(policy));
    }

    private static FaultPlan everyRequestFailsTwice(Fault kind) {
        return new FaultPlan(17, 1.0, 2, List.of(kind), Duration.ofSeconds(2), r -> true);
    }

    @Test
    void eachFaultReachesTheSdkAsS3OrTheNetworkWouldPresentIt() throws IOException {
        try (S3Client once = client(new S3RetryPolicy(1, Duration.ZERO, Duration.ZERO, Duration.ofMillis(400)))) {
            String bucket = bucketOf(modelUri);
            proxy.plan(FaultPlan.permanent(Fault.SLOW_DOWN, r -> true));
            S3Exception slow = assertThrows(S3Exception.class, () -> once.listObjectsV2(b -> b.bucket(bucket)));
            assertEquals(503, slow.statusCode());
            assertEquals("SlowDown", slow.awsErrorDetails().errorCode());
            assertTrue(slow.isThrottlingException(), "the SDK classifies it as throttling");
            proxy.plan(FaultPlan.permanent(Fault.INTERNAL_ERROR, r -> true));
            S3Exception internal = assertThrows(S3Exception.class, () -> once.listObjectsV2(b -> b.bucket(bucket)));
            assertEquals(500, internal.statusCode());
            assertEquals("InternalError", internal.awsErrorDetails().errorCode());
            proxy.plan(FaultPlan.permanent(Fault.STALL, r -> true));
            long t0 = System.nanoTime();
            assertThrows(SdkClientException.class, () -> once.listObjectsV2(b -> b.bucket(bucket)));
            assertTrue(System.nanoTime() - t0 < 1_900_000_000L, "the read timeout ended the stall, not the proxy");
            proxy.plan(FaultPlan.permanent(Fault.RESET, r -> true));
            assertThrows(SdkClientException.class, () -> once.getObjectAsBytes(b -> b.bucket(bucket)
                    .key("models/stories260K/" + ModelFixture.WEIGHTS)));
            proxy.plan(FaultPlan.none());
            assertArrayEquals(Files.readAllBytes(model.resolve(ModelFixture.WEIGHTS)), once.getObjectAsBytes(b -> b
                    .bucket(bucket).key("models/stories260K/" + ModelFixture.WEIGHTS)).asByteArray(),
                    "without a plan the proxy passes bytes through unchanged");
        }
    }

    @ParameterizedTest
    @EnumSource(Fault.class)
    void aDownloadWhoseEveryRequestFailsTwiceIsCompleteAndVerified(Fault kind) throws IOException {
        proxy.plan(everyRequestFailsTwice(kind));
        Path cache = scratch.resolve("cache-" + kind);
        try (S3Client s3 = client(FAST)) {
            Path resolved = new S3ModelStore(s3, new ModelStoreOptions(cache, false)).resolve(modelUri);
            for (String file : List.of(ModelFixture.WEIGHTS, ModelFixture.TOKENIZER)) {
                assertArrayEquals(Files.readAllBytes(model.resolve(file)), Files.readAllBytes(resolved.resolve(file)),
                        file);
            }
        }
        // Every request of the download (listing, manifest, weights, tokenizer) failed twice before it succeeded.
        int weightFaults = proxy.injected(r -> r.method().equals("GET") && r.path().endsWith(ModelFixture.WEIGHTS))
                .getOrDefault(kind, 0);
        assertEquals(2, weightFaults, "the weights' GET failed twice with " + kind + ": " + proxy.events());
        assertTrue(proxy.injected(r -> true).get(kind) >= 8, proxy.events().toString());
    }

    @Test
    void fewerAttemptsThanFaultsInARowFailTheDownloadNamingTheObject() throws IOException {
        proxy.plan(everyRequestFailsTwice(Fault.RESET));
        Path cache = scratch.resolve("cache");
        S3RetryPolicy twoAttempts = new S3RetryPolicy(2, Duration.ofMillis(10), Duration.ofMillis(100),
                Duration.ofMillis(400));
        try (S3Client s3 = client(twoAttempts)) {
            ModelStoreException e = assertThrows(ModelStoreException.class,
                    () -> new S3ModelStore(s3, new ModelStoreOptions(cache, false)).resolve(modelUri));
            assertTrue(e.getMessage().startsWith("cannot list " + modelUri), e.getMessage());
        }
        assertFalse(hasEntries(cache), "no cache entry from a failed download");
    }

    @Test
    void permanentSlowDownFailsOnceWithTheLocationAndLeavesNoCacheEntry() throws IOException {
        // Listing and manifest pass; every GET of the weights is throttled, however often it is retried.
        proxy.plan(FaultPlan.permanent(Fault.SLOW_DOWN, r -> r.path().endsWith(ModelFixture.WEIGHTS)));
        Path cache = scratch.resolve("cache");
        try (S3Client s3 = client(FAST)) {
            ModelStoreException e = assertThrows(ModelStoreException.class,
                    () -> new S3ModelStore(s3, new ModelStoreOptions(cache, false)).resolve(modelUri));
            assertTrue(e.getMessage().startsWith("cannot download " + modelUri + ModelFixture.WEIGHTS + ": "),
                    e.getMessage());
            assertTrue(e.getMessage().contains("Please reduce your request rate"), e.getMessage());
            assertInstanceOf(S3Exception.class, e.getCause());
        }
        assertEquals(FAST.maxAttempts(), proxy.injected(r -> true).get(Fault.SLOW_DOWN), "every attempt was made");
        assertFalse(hasEntries(cache), "no cache entry from a failed download");
    }

    private static boolean hasEntries(Path cache) throws IOException {
        if (!Files.exists(cache)) {
            return false;
        }
        try (Stream<Path> list = Files.list(cache)) {
            return list.anyMatch(p -> !p.getFileName().toString().endsWith(".lock"));
        }
    }

    private static String bucketOf(URI uri) {
        return uri.getHost();
    }
}
