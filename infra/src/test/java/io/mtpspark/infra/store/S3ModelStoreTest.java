package io.mtpspark.infra.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.infra.testing.LockHolder;
import io.mtpspark.infra.testing.ModelFixture;
import io.mtpspark.infra.testing.S3ProxyServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

@ExtendWith(S3ProxyServer.Extension.class)
class S3ModelStoreTest {
    private final S3ProxyServer server;
    private final Map<URI, AtomicInteger> downloads = new ConcurrentHashMap<>();
    private final DownloadListener counting = (object, bytes) ->
            downloads.computeIfAbsent(object, k -> new AtomicInteger()).incrementAndGet();

    @TempDir
    Path scratch;
    private Path cache;
    private Path model;
    private String bucket;
    private URI modelUri;

    S3ModelStoreTest(S3ProxyServer server) {
        this.server = server;
    }

    @BeforeEach
    void publishModel() throws IOException {
        cache = scratch.resolve("cache");
        model = ModelFixture.copyModel(scratch.resolve("model"));
        bucket = server.newBucket();
        modelUri = URI.create("s3://" + bucket + "/models/stories260K/");
        new ModelPublisher(server.client()).publish(model, modelUri);
    }

    private S3ModelStore store(boolean allowUnverified) {
        return new S3ModelStore(server.client(), new ModelStoreOptions(cache, allowUnverified), counting);
    }

    private int totalDownloads() {
        return downloads.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    private void put(String key, byte[] bytes) {
        server.client().putObject(PutObjectRequest.builder().bucket(bucket).key(key).build(), RequestBody.fromBytes(bytes));
    }

    private List<Path> cacheEntries() throws IOException {
        if (!Files.exists(cache)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(cache)) {
            return list.filter(p -> !p.getFileName().toString().endsWith(".lock")).toList();
        }
    }

    @Test
    void publishedModelResolvesToByteIdenticalLocalFiles() throws IOException {
        Path local = store(false).resolve(modelUri);

        assertTrue(local.startsWith(cache.toRealPath()), "resolved into the cache: " + local);
        for (String name : List.of(ModelFixture.WEIGHTS, ModelFixture.TOKENIZER)) {
            assertArrayEquals(Files.readAllBytes(ModelFixture.modelSource().resolve(name)),
                    Files.readAllBytes(local.resolve(name)), name);
        }
        ModelManifest manifest = ModelManifest.read(local.resolve(ModelManifest.FILE_NAME));
        assertEquals(List.of(ModelFixture.WEIGHTS, ModelFixture.TOKENIZER),
                manifest.files().stream().map(ModelManifest.Entry::path).toList());
        assertEquals(1056540, manifest.entry(ModelFixture.WEIGHTS).orElseThrow().size());
        assertEquals(3, totalDownloads(), "weights, tokenizer and manifest: " + downloads);
    }

    @Test
    void eightConcurrentResolvesDownloadOnce() throws Exception {
        S3ModelStore store = store(false);
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                // Alternate spellings of the same location: they must share one cache entry and one download.
                URI uri = i % 2 == 0 ? modelUri : URI.create("s3a://" + bucket + "/models/stories260K");
                results.add(pool.submit(() -> {
                    start.await();
                    return store.resolve(uri);
                }));
            }
            start.countDown();
            Path first = results.get(0).get(30, TimeUnit.SECONDS);
            for (Future<Path> f : results) {
                assertEquals(first, f.get(30, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(3, downloads.size(), "objects fetched: " + downloads);
        downloads.forEach((uri, n) -> assertEquals(1, n.get(), "downloads of " + uri));
    }

    @Test
    void completedEntryIsReusedFromDiskAndRefetchedWhenDamaged() throws IOException {
        Path first = store(false).resolve(modelUri);
        assertEquals(3, totalDownloads());

        // A new store instance stands in for another JVM: the entry on disk is reused without any GET.
        Path second = store(false).resolve(modelUri);
        assertEquals(first, second);
        assertEquals(3, totalDownloads(), "no download for a cached model: " + downloads);

        // A truncated file fails the cheap size check and the entry is rebuilt.
        Files.write(first.resolve(ModelFixture.WEIGHTS), new byte[10]);
        Path third = store(false).resolve(modelUri);
        assertEquals(6, totalDownloads());
        assertArrayEquals(Files.readAllBytes(model.resolve(ModelFixture.WEIGHTS)),
                Files.readAllBytes(third.resolve(ModelFixture.WEIGHTS)));
    }

    @Test
    void anotherProcessHoldingTheEntryLockMakesUsWait() throws Exception {
        S3ModelStore store = store(false);
        Files.createDirectories(cache);
        Path lockFile = cache.toRealPath().resolve(store.entryName(modelUri) + ".lock");
        Process other = LockHolder.start(lockFile);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Path> resolving = pool.submit(() -> store.resolve(modelUri));
            Thread.sleep(700);
            assertFalse(resolving.isDone(), "resolve must wait while another JVM holds the entry lock");
            assertEquals(0, totalDownloads());

            other.getOutputStream().close(); // the other JVM finishes and releases the lock
            Path local = resolving.get(30, TimeUnit.SECONDS);
            assertArrayEquals(Files.readAllBytes(model.resolve(ModelFixture.WEIGHTS)),
                    Files.readAllBytes(local.resolve(ModelFixture.WEIGHTS)));
            assertEquals(3, totalDownloads());
        } finally {
            pool.shutdownNow();
            other.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void corruptedObjectFailsWithChecksumMessageAndLeavesNoCacheEntry() throws IOException {
        byte[] corrupted = Files.readAllBytes(model.resolve(ModelFixture.WEIGHTS));
        corrupted[corrupted.length / 2] ^= 0x5A; // same size, so only the checksum can catch it
        put("models/stories260K/" + ModelFixture.WEIGHTS, corrupted);
        String expected = ModelManifest.sha256(model.resolve(ModelFixture.WEIGHTS));
        Path corruptedFile = scratch.resolve("corrupted.bin");
        Files.write(corruptedFile, corrupted);
        String actual = ModelManifest.sha256(corruptedFile);

        ModelVerificationException e = assertThrows(ModelVerificationException.class, () -> store(false).resolve(modelUri));

        assertEquals("checksum mismatch for s3://" + bucket + "/models/stories260K/" + ModelFixture.WEIGHTS
                + ": expected sha256 " + expected + " got " + actual, e.getMessage());
        assertEquals(List.of(), cacheEntries(), "no cache entry or temporary directory may remain");
    }

    @Test
    void objectOfWrongSizeFailsBeforeDownloading() throws IOException {
        put("models/stories260K/" + ModelFixture.TOKENIZER, new byte[] {1, 2, 3});

        ModelVerificationException e = assertThrows(ModelVerificationException.class, () -> store(false).resolve(modelUri));

        assertEquals("size mismatch for s3://" + bucket + "/models/stories260K/" + ModelFixture.TOKENIZER
                + ": expected 6227 bytes got 3 bytes", e.getMessage());
        assertEquals(List.of(), cacheEntries());
        assertEquals(1, totalDownloads(), "only the manifest was fetched: " + downloads);
    }

    /**
     * Issue 17: identity by content. The driver's identity of an S3 location (manifest only, nothing downloaded)
     * equals what an executor computes from the downloaded cache entry and what the local copy gives, for a
     * directory and for a single object, however the location is spelled.
     */
    @Test
    void identifyReadsOnlyTheManifestAndMatchesTheDownloadedAndTheLocalCopy() {
        ContentIdentity remote = store(false).identify(modelUri);
        assertEquals(1, totalDownloads(), "only manifest.json was fetched");
        assertTrue(remote.verified());
        assertEquals(2, remote.files());
        ModelManifest.write(model); // the same manifest the publisher computed and uploaded
        ContentIdentity local = new LocalModelStore(new ModelStoreOptions(cache, false)).identify(model.toUri());
        assertEquals(local, remote);
        assertEquals(remote, store(false).identify(URI.create("s3a://" + bucket + "/models/stories260K")));
        Path downloaded = store(false).resolve(modelUri);
        assertEquals(remote, LocalModelStore.identifyResolved(downloaded, false));

        URI single = URI.create("s3://" + bucket + "/models/stories260K/" + ModelFixture.WEIGHTS);
        ContentIdentity file = store(false).identify(single);
        assertEquals(file, new LocalModelStore(new ModelStoreOptions(cache, false))
                .identify(model.resolve(ModelFixture.WEIGHTS).toUri()));
        assertEquals(file, LocalModelStore.identifyResolved(store(false).resolve(single), false));
        assertNotEquals(remote, file);

        ModelStoreException missing = assertThrows(ModelStoreException.class,
                () -> store(false).identify(URI.create("s3://" + bucket + "/models/nothing.bin")));
        assertTrue(missing.getMessage().startsWith("nothing at s3://" + bucket + "/models/nothing.bin"), missing.getMessage());
    }

    @Test
    void missingManifestIsAnErrorUnlessUnverifiedIsAllowed() throws IOException {
        URI bare = URI.create("s3://" + bucket + "/bare/stories260K/");
        put("bare/stories260K/" + ModelFixture.WEIGHTS, Files.readAllBytes(model.resolve(ModelFixture.WEIGHTS)));
        put("bare/stories260K/" + ModelFixture.TOKENIZER, Files.readAllBytes(model.resolve(ModelFixture.TOKENIZER)));

        ModelVerificationException e = assertThrows(ModelVerificationException.class, () -> store(false).resolve(bare));
        assertTrue(e.getMessage().startsWith("no manifest for s3://" + bucket + "/bare/stories260K/ (expected"), e.getMessage());
        assertEquals(List.of(), cacheEntries());

        Path local = store(true).resolve(bare);
        assertArrayEquals(Files.readAllBytes(model.resolve(ModelFixture.WEIGHTS)),
                Files.readAllBytes(local.resolve(ModelFixture.WEIGHTS)));
        assertFalse(Files.exists(local.resolve(ModelManifest.FILE_NAME)));
    }

    @Test
    void singleObjectIsVerifiedAgainstItsDirectoryManifest() throws IOException {
        URI tokenizer = URI.create("s3://" + bucket + "/models/stories260K/" + ModelFixture.TOKENIZER);

        Path local = store(false).resolve(tokenizer);

        assertEquals(ModelFixture.TOKENIZER, local.getFileName().toString());
        assertArrayEquals(Files.readAllBytes(model.resolve(ModelFixture.TOKENIZER)), Files.readAllBytes(local));
    }

    @Test
    void missingLocationIsAClearError() {
        URI missing = URI.create("s3://" + bucket + "/models/nope");
        ModelStoreException e = assertThrows(ModelStoreException.class, () -> store(false).resolve(missing));
        assertTrue(e.getMessage().contains("nothing at s3://" + bucket + "/models/nope"), e.getMessage());
    }

    @Test
    void manifestPathsCannotEscapeTheCache() {
        put("evil/manifest.json", ("{\"files\":[{\"path\":\"../x\",\"size\":1,\"sha256\":\"" + "0".repeat(64) + "\"}]}")
                .getBytes());
        put("evil/a.bin", new byte[1]);
        ModelVerificationException e = assertThrows(ModelVerificationException.class,
                () -> store(false).resolve(URI.create("s3://" + bucket + "/evil/")));
        assertTrue(e.getMessage().contains(".. segment"), e.getMessage());
    }
}
