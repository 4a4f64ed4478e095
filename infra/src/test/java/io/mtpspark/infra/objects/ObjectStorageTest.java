package io.mtpspark.infra.objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.infra.s3.S3ClientFactory;
import io.mtpspark.infra.s3.S3Settings;
import io.mtpspark.infra.testing.S3ProxyServer;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

@ExtendWith(S3ProxyServer.Extension.class)
class ObjectStorageTest {
    private final S3ProxyServer server;
    private final ObjectStorage storage;

    @TempDir
    Path dir;

    ObjectStorageTest(S3ProxyServer server) {
        this.server = server;
        this.storage = new ObjectStorage(server::client);
    }

    @Test
    void s3RoundTripExistsListAndDelete() {
        String bucket = server.newBucket();
        URI manifest = URI.create("s3://" + bucket + "/runs/r1/_manifest.json");
        URI part = URI.create("s3a://" + bucket + "/runs/r1/part-0.json");

        assertFalse(storage.exists(manifest));
        storage.writeString(manifest, "{\"rows\": 3, \"text\": \"héllo\"}");
        storage.writeString(part, "{}");
        storage.writeString(URI.create("s3://" + bucket + "/runs/r10/other.json"), "{}");

        assertTrue(storage.exists(manifest));
        assertEquals("{\"rows\": 3, \"text\": \"héllo\"}", storage.readString(manifest));
        assertEquals(List.of(manifest, URI.create("s3://" + bucket + "/runs/r1/part-0.json")),
                storage.list(URI.create("s3://" + bucket + "/runs/r1")), "r1 is a directory, r10 is not below it");

        storage.delete(manifest);
        assertFalse(storage.exists(manifest));
        UncheckedIOException missing = assertThrows(UncheckedIOException.class, () -> storage.readString(manifest));
        assertInstanceOf(NoSuchFileException.class, missing.getCause());
    }

    @Test
    void localRoundTripWithPlainPathsAndFileUris() {
        URI file = dir.resolve("out/run/_manifest.json").toUri();
        URI plain = dir.resolve("out/run/nested/x.json").toAbsolutePath().toUri();

        storage.writeString(file, "one");
        storage.writeString(plain, "two");

        assertTrue(storage.exists(file));
        assertEquals("one", storage.readString(file));
        assertEquals(List.of(file, plain), storage.list(dir.resolve("out/run").toUri()));
        assertEquals(List.of(), storage.list(dir.resolve("absent").toUri()));
        UncheckedIOException missing = assertThrows(UncheckedIOException.class,
                () -> storage.readString(dir.resolve("absent.json").toUri()));
        assertInstanceOf(NoSuchFileException.class, missing.getCause());
    }

    @Test
    void wrongCredentialsAreRejectedByTheServer() {
        String bucket = server.newBucket();
        S3Settings wrong = S3Settings.forEndpoint(server.endpoint(), "us-east-1", S3ProxyServer.ACCESS_KEY, "not-the-secret");
        try (S3Client client = S3ClientFactory.create(wrong)) {
            ObjectStorage unauthorised = new ObjectStorage(() -> client);
            UncheckedIOException e = assertThrows(UncheckedIOException.class,
                    () -> unauthorised.writeString(URI.create("s3://" + bucket + "/x"), "x"));
            assertTrue(e.getMessage().startsWith("cannot write s3://" + bucket + "/x"), e.getMessage());
        }
        assertFalse(storage.exists(URI.create("s3://" + bucket + "/x")));
    }

    @Test
    void localOnlyStorageExplainsMissingS3() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ObjectStorage.localOnly().exists(URI.create("s3://b/k")));
        assertTrue(e.getMessage().contains("no S3 client configured"), e.getMessage());
    }
}
