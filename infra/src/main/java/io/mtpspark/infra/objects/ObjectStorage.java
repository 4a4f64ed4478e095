package io.mtpspark.infra.objects;

import io.mtpspark.infra.location.StorageUri;
import io.mtpspark.infra.s3.S3Location;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.stream.Stream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Whole-object reads and writes of small objects (run manifests, job summaries, JSON side files) addressed by
 * {@code s3://}, {@code s3a://}, {@code file:} URIs or plain paths, with the same behaviour for both kinds of
 * storage. A missing object surfaces as an {@link UncheckedIOException} wrapping {@link NoSuchFileException};
 * other failures as {@link UncheckedIOException} too. Local writes are atomic (temporary file plus rename), like
 * an S3 PUT, so readers never see half a file. Not meant for large data: everything is held in memory.
 */
public final class ObjectStorage {
    private final Supplier<S3Client> s3;

    /** {@code s3} is asked for a client only when an S3 location is used, so local-only use needs no S3 setup. */
    public ObjectStorage(Supplier<S3Client> s3) {
        this.s3 = Objects.requireNonNull(s3, "s3");
    }

    /** Storage for local files only; any S3 location fails with a clear message. */
    public static ObjectStorage localOnly() {
        return new ObjectStorage(() -> {
            throw new IllegalStateException("no S3 client configured: this ObjectStorage handles local files only");
        });
    }

    public String readString(URI location) {
        return new String(readBytes(location), StandardCharsets.UTF_8);
    }

    public byte[] readBytes(URI location) {
        if (StorageUri.isS3(location)) {
            S3Location loc = S3Location.parse(location);
            try {
                return s3.get().getObjectAsBytes(GetObjectRequest.builder().bucket(loc.bucket()).key(loc.key()).build())
                        .asByteArray();
            } catch (NoSuchKeyException e) {
                throw notFound(location, e);
            } catch (SdkException e) {
                throw failure("read", location, e);
            }
        }
        Path path = local(location);
        try {
            return Files.readAllBytes(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + location, e);
        }
    }

    public void writeString(URI location, String content) {
        writeBytes(location, content.getBytes(StandardCharsets.UTF_8));
    }

    /** Creates or replaces the object; local parent directories are created as needed. */
    public void writeBytes(URI location, byte[] content) {
        if (StorageUri.isS3(location)) {
            S3Location loc = S3Location.parse(location);
            try {
                s3.get().putObject(PutObjectRequest.builder().bucket(loc.bucket()).key(loc.key()).build(),
                        RequestBody.fromBytes(content));
            } catch (SdkException e) {
                throw failure("write", location, e);
            }
            return;
        }
        Path path = local(location).toAbsolutePath();
        try {
            Files.createDirectories(path.getParent());
            Path tmp = Files.createTempFile(path.getParent(), "." + path.getFileName(), ".tmp");
            try {
                Files.write(tmp, content);
                // a temp file is created owner-only (0600); outputs are read by other users and tools (0644)
                if (Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class)) {
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
                }
                Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + location, e);
        }
    }

    /** Whether an object (or, locally, a regular file) exists at exactly this location. */
    public boolean exists(URI location) {
        if (StorageUri.isS3(location)) {
            S3Location loc = S3Location.parse(location);
            if (loc.key().isEmpty()) {
                return false;
            }
            try {
                s3.get().headObject(HeadObjectRequest.builder().bucket(loc.bucket()).key(loc.key()).build());
                return true;
            } catch (NoSuchKeyException e) {
                return false;
            } catch (SdkException e) {
                throw failure("check", location, e);
            }
        }
        return Files.isRegularFile(local(location));
    }

    /**
     * Every object below a directory-like location, recursively, sorted, as full URIs in the location's own
     * scheme. A location without objects (or a missing local directory) gives an empty list.
     */
    public List<URI> list(URI directory) {
        List<URI> result = new ArrayList<>();
        if (StorageUri.isS3(directory)) {
            S3Location loc = S3Location.parse(directory);
            ListObjectsV2Request request = ListObjectsV2Request.builder().bucket(loc.bucket()).prefix(loc.prefix()).build();
            try {
                for (S3Object o : s3.get().listObjectsV2Paginator(request).contents()) {
                    if (!o.key().endsWith("/")) {
                        result.add(loc.withKey(o.key()).toUri());
                    }
                }
            } catch (SdkException e) {
                throw failure("list", directory, e);
            }
            result.sort(null);
            return result;
        }
        Path dir = local(directory);
        if (!Files.isDirectory(dir)) {
            return result;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.filter(Files::isRegularFile).sorted().forEach(p -> result.add(p.toAbsolutePath().toUri()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + directory, e);
        }
        return result;
    }

    /** Deletes the object if it exists; deleting a missing object is not an error (as in S3). */
    public void delete(URI location) {
        if (StorageUri.isS3(location)) {
            S3Location loc = S3Location.parse(location);
            try {
                s3.get().deleteObject(DeleteObjectRequest.builder().bucket(loc.bucket()).key(loc.key()).build());
            } catch (SdkException e) {
                throw failure("delete", location, e);
            }
            return;
        }
        try {
            Files.deleteIfExists(local(location));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + location, e);
        }
    }

    private static Path local(URI location) {
        if (!StorageUri.isLocal(location)) {
            throw new IllegalArgumentException("unsupported location " + location + ": use s3://, s3a://, file: or a path");
        }
        return StorageUri.localPath(location);
    }

    private static UncheckedIOException notFound(URI location, Exception cause) {
        NoSuchFileException e = new NoSuchFileException(location.toString());
        e.initCause(cause);
        return new UncheckedIOException("no object at " + location, e);
    }

    private static UncheckedIOException failure(String action, URI location, SdkException e) {
        return new UncheckedIOException("cannot " + action + " " + location + ": " + e.getMessage(), new IOException(e));
    }
}
