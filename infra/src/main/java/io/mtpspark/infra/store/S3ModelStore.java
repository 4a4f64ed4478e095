package io.mtpspark.infra.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mtpspark.infra.s3.S3Location;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.AbortableInputStream;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Serves models and adapters stored in S3 ({@code s3://} or {@code s3a://}) from an executor-local cache, so each
 * JVM downloads a model at most once and the JVMs of one machine share the download.
 *
 * <p>A location is a directory (every object under the prefix; a trailing slash is optional) or, if no object
 * lies under it, a single object. A directory is verified against its {@code manifest.json}: only the files the
 * manifest lists are downloaded (other objects are ignored with a warning), each must have the listed size and
 * SHA-256. A single object is verified against its entry in the {@code manifest.json} of its parent prefix.
 * Without a manifest the download fails unless {@link ModelStoreOptions#allowUnverified()} is set, in which case
 * every object under the prefix is fetched.
 *
 * <p>Concurrency: callers in one JVM asking for the same location wait for a single download (a per-JVM map of
 * futures); separate JVMs sharing the cache directory serialise on a file lock next to the entry. A download goes
 * into a temporary directory that is verified and then renamed atomically into place, so a cache entry either is
 * complete and verified or does not exist. An existing entry is reused after a cheap check that every file still
 * has its recorded size. Locations are assumed immutable: publish a changed model under a new prefix.
 */
public final class S3ModelStore implements ModelStore {
    private static final System.Logger LOG = System.getLogger(S3ModelStore.class.getName());
    /** Cache bookkeeping written inside each entry: source, verification status and file sizes. */
    static final String ENTRY_METADATA = ".mtp-cache-entry.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Keyed by the entry's real path, and static, so that every store instance in the JVM shares it. */
    private static final ConcurrentHashMap<Path, CompletableFuture<Path>> IN_FLIGHT = new ConcurrentHashMap<>();

    private final S3Client s3;
    private final ModelStoreOptions options;
    private final DownloadListener listener;

    public S3ModelStore(S3Client s3, ModelStoreOptions options) {
        this(s3, options, DownloadListener.NONE);
    }

    public S3ModelStore(S3Client s3, ModelStoreOptions options, DownloadListener listener) {
        this.s3 = s3;
        this.options = options;
        this.listener = listener;
    }

    @Override
    public Path resolve(URI location) {
        S3Location loc = S3Location.parse(location);
        Path cacheDir = cacheDir();
        String entryName = entryName(loc);
        Path entryDir = cacheDir.resolve(entryName);
        CompletableFuture<Path> mine = new CompletableFuture<>();
        CompletableFuture<Path> running = IN_FLIGHT.putIfAbsent(entryDir, mine);
        if (running != null) {
            return await(running, loc);
        }
        try {
            Path result = fetchUnderLock(loc, cacheDir, entryName);
            mine.complete(result);
            return result;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            // Only in-flight work is shared; later callers take the lock and reuse the finished entry from disk.
            IN_FLIGHT.remove(entryDir, mine);
        }
    }

    /** The cache entry directory name for a location (exposed for tests and cache maintenance tools). */
    public String entryName(URI location) {
        return entryName(S3Location.parse(location));
    }

    private String entryName(S3Location loc) {
        String name = loc.name().replaceAll("[^A-Za-z0-9._-]", "_");
        if (name.length() > 48) {
            name = name.substring(0, 48);
        }
        String mode = options.allowUnverified() ? "-u" : "";
        return name + "-" + sha256Hex(canonicalSource(loc)).substring(0, 16) + mode;
    }

    /** s3 and s3a, with or without a trailing slash, name the same content and share one cache entry. */
    private static String canonicalSource(S3Location loc) {
        String key = loc.key().endsWith("/") ? loc.key().substring(0, loc.key().length() - 1) : loc.key();
        return "s3://" + loc.bucket() + "/" + key;
    }

    private Path cacheDir() {
        try {
            Files.createDirectories(options.cacheDir());
            return options.cacheDir().toRealPath();
        } catch (IOException e) {
            throw new ModelStoreException("cannot create model cache directory " + options.cacheDir(), e);
        }
    }

    private static Path await(CompletableFuture<Path> running, S3Location loc) {
        try {
            return running.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ModelStoreException("interrupted while waiting for the download of " + loc, e);
        } catch (CancellationException e) {
            throw new ModelStoreException("download of " + loc + " was cancelled", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new ModelStoreException("download of " + loc + " failed", e.getCause());
        }
    }

    private Path fetchUnderLock(S3Location loc, Path cacheDir, String entryName) {
        Path entryDir = cacheDir.resolve(entryName);
        Path lockFile = cacheDir.resolve(entryName + ".lock");
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            // Held until the channel closes at the end of this block; closing a channel releases its locks.
            lock(channel, loc);
            if (Files.isDirectory(entryDir)) {
                Optional<Path> reused = reuse(entryDir, loc);
                if (reused.isPresent()) {
                    LOG.log(Level.DEBUG, "reusing cached {0} at {1}", loc, reused.get());
                    return reused.get();
                }
                LOG.log(Level.WARNING, "cached copy of {0} at {1} is incomplete or changed; downloading again", loc, entryDir);
                deleteRecursively(entryDir);
            }
            // Left-overs of a process that died mid-download; safe to remove because we hold the entry's lock.
            deleteStaleTemporaries(cacheDir, entryName);
            Path tmp = Files.createTempDirectory(cacheDir, entryName + ".tmp-");
            try {
                long start = System.nanoTime();
                String target = download(loc, tmp);
                Files.move(tmp, entryDir, StandardCopyOption.ATOMIC_MOVE);
                LOG.log(Level.INFO, "downloaded {0} to {1} in {2} ms", loc, entryDir, (System.nanoTime() - start) / 1_000_000);
                return target.isEmpty() ? entryDir : entryDir.resolve(target);
            } finally {
                if (Files.exists(tmp)) {
                    deleteRecursively(tmp);
                }
            }
        } catch (IOException e) {
            throw new ModelStoreException("cannot cache " + loc + " in " + cacheDir + ": " + e.getMessage(), e);
        }
    }

    private static void lock(FileChannel channel, S3Location loc) throws IOException {
        FileLock lock = channel.tryLock();
        if (lock == null) {
            LOG.log(Level.INFO, "another process is downloading {0}; waiting for it", loc);
            channel.lock();
        }
    }

    /** Downloads into {@code tmp}; returns the path of the result relative to it ("" for a directory). */
    private String download(S3Location loc, Path tmp) throws IOException {
        Map<String, Long> objects = listUnder(loc);
        if (!objects.isEmpty()) {
            downloadDirectory(loc, objects, tmp);
            return "";
        }
        if (loc.key().isEmpty() || loc.key().endsWith("/")) {
            throw new ModelStoreException("no objects under " + loc);
        }
        downloadSingle(loc, tmp);
        return loc.name();
    }

    private void downloadDirectory(S3Location dir, Map<String, Long> objects, Path tmp) throws IOException {
        String base = dir.withKey(dir.prefix()).toString();
        List<CachedFile> files = new ArrayList<>();
        ModelManifest manifest = null;
        if (objects.containsKey(ModelManifest.FILE_NAME)) {
            Path manifestFile = tmp.resolve(ModelManifest.FILE_NAME);
            fetch(dir.child(ModelManifest.FILE_NAME), manifestFile);
            manifest = ModelManifest.parse(Files.readAllBytes(manifestFile), base + ModelManifest.FILE_NAME);
            files.add(new CachedFile(ModelManifest.FILE_NAME, Files.size(manifestFile)));
        } else if (!options.allowUnverified()) {
            throw ModelVerificationException.noManifest(base, base + ModelManifest.FILE_NAME);
        }
        if (manifest != null) {
            // Check presence and sizes against the listing first: a bad upload fails before gigabytes move.
            for (ModelManifest.Entry e : manifest.files()) {
                Long remoteSize = objects.get(e.path());
                if (remoteSize == null) {
                    throw new ModelVerificationException("missing object " + base + e.path() + " listed in manifest "
                            + base + ModelManifest.FILE_NAME);
                }
                ModelManifest.checkSize(e, remoteSize, base + e.path());
            }
            for (ModelManifest.Entry e : manifest.files()) {
                Digest d = fetch(dir.child(e.path()), target(tmp, e.path(), dir));
                ModelManifest.checkSize(e, d.size(), base + e.path());
                ModelManifest.checkSha256(e, d.sha256(), base + e.path());
                files.add(new CachedFile(e.path(), d.size()));
            }
            List<String> ignored = new ArrayList<>(objects.keySet());
            ignored.remove(ModelManifest.FILE_NAME);
            manifest.files().forEach(e -> ignored.remove(e.path()));
            if (!ignored.isEmpty()) {
                LOG.log(Level.WARNING, "ignoring {0} object(s) under {1} not listed in its manifest: {2}",
                        ignored.size(), base, ignored);
            }
        } else {
            LOG.log(Level.WARNING, "downloading unverified model {0}: no {1}", base, ModelManifest.FILE_NAME);
            for (String rel : objects.keySet()) {
                Digest d = fetch(dir.child(rel), target(tmp, rel, dir));
                files.add(new CachedFile(rel, d.size()));
            }
        }
        writeMetadata(tmp, dir, manifest != null, "", files);
    }

    /** HEAD of a single-object location, with the messages for one that is not there. */
    private HeadObjectResponse head(S3Location object) {
        try {
            return s3.headObject(HeadObjectRequest.builder().bucket(object.bucket()).key(object.key()).build());
        } catch (NoSuchKeyException e) {
            throw new ModelStoreException("nothing at " + object + ": no object with that key and no objects under "
                    + object.withKey(object.prefix()), e);
        } catch (SdkException e) {
            throw new ModelStoreException("cannot read " + object + ": " + e.getMessage(), e);
        }
    }

    private void downloadSingle(S3Location object, Path tmp) throws IOException {
        head(object);
        S3Location manifestLoc = object.parent().child(ModelManifest.FILE_NAME);
        Optional<byte[]> manifestBytes = getIfExists(manifestLoc);
        String name = object.name();
        ModelManifest.Entry entry = null;
        if (manifestBytes.isPresent()) {
            ModelManifest manifest = ModelManifest.parse(manifestBytes.get(), manifestLoc.toString());
            entry = manifest.entry(name).orElseThrow(() -> new ModelVerificationException(
                    object + " is not listed in manifest " + manifestLoc));
        } else if (!options.allowUnverified()) {
            throw ModelVerificationException.noManifest(object.toString(), manifestLoc.toString());
        }
        Digest d = fetch(object, tmp.resolve(name));
        if (entry != null) {
            ModelManifest.checkSize(entry, d.size(), object.toString());
            ModelManifest.checkSha256(entry, d.sha256(), object.toString());
        }
        writeMetadata(tmp, object, entry != null, name, List.of(new CachedFile(name, d.size())));
    }

    /**
     * Reads the manifest (one small GET, after a listing or a HEAD) and nothing of the model itself. Without a
     * manifest, allowed only for unverified use, the objects' keys, sizes and ETags stand in for their hashes.
     */
    @Override
    public ContentIdentity identify(URI location) {
        S3Location loc = S3Location.parse(location);
        Map<String, S3Object> objects = listObjects(loc);
        String base = loc.withKey(loc.prefix()).toString();
        if (!objects.isEmpty()) {
            if (objects.containsKey(ModelManifest.FILE_NAME)) {
                S3Location manifestLoc = loc.withKey(loc.prefix()).child(ModelManifest.FILE_NAME);
                byte[] bytes = getIfExists(manifestLoc).orElseThrow(() ->
                        new ModelStoreException("manifest " + manifestLoc + " vanished while reading it"));
                return ContentIdentity.of(ModelManifest.parse(bytes, manifestLoc.toString()).files(), null, true);
            }
            if (!options.allowUnverified()) {
                throw ModelVerificationException.noManifest(base, base + ModelManifest.FILE_NAME);
            }
            List<String> lines = new ArrayList<>();
            long bytes = 0;
            for (Map.Entry<String, S3Object> e : objects.entrySet()) {
                lines.add(e.getKey() + " " + e.getValue().size() + " " + e.getValue().eTag());
                bytes += e.getValue().size();
            }
            return ContentIdentity.ofListing(lines, bytes);
        }
        if (loc.key().isEmpty() || loc.key().endsWith("/")) {
            throw new ModelStoreException("no objects under " + loc);
        }
        HeadObjectResponse head = head(loc);
        S3Location manifestLoc = loc.parent().child(ModelManifest.FILE_NAME);
        Optional<byte[]> manifestBytes = getIfExists(manifestLoc);
        if (manifestBytes.isPresent()) {
            ModelManifest.Entry entry = ModelManifest.parse(manifestBytes.get(), manifestLoc.toString())
                    .entry(loc.name()).orElseThrow(() -> new ModelVerificationException(
                            loc + " is not listed in manifest " + manifestLoc));
            return ContentIdentity.of(List.of(entry), loc.name(), true);
        }
        if (!options.allowUnverified()) {
            throw ModelVerificationException.noManifest(loc.toString(), manifestLoc.toString());
        }
        return ContentIdentity.ofListing(List.of(head.contentLength() + " " + head.eTag()), head.contentLength());
    }

    /** Objects under the location's prefix, by key relative to it; folder marker objects are skipped. */
    private Map<String, Long> listUnder(S3Location loc) {
        Map<String, Long> sizes = new TreeMap<>();
        listObjects(loc).forEach((rel, o) -> sizes.put(rel, o.size()));
        return sizes;
    }

    private Map<String, S3Object> listObjects(S3Location loc) {
        String prefix = loc.prefix();
        Map<String, S3Object> objects = new TreeMap<>();
        try {
            ListObjectsV2Request request = ListObjectsV2Request.builder().bucket(loc.bucket()).prefix(prefix).build();
            for (S3Object o : s3.listObjectsV2Paginator(request).contents()) {
                String rel = o.key().substring(prefix.length());
                if (!rel.isEmpty() && !rel.endsWith("/")) {
                    objects.put(rel, o);
                }
            }
        } catch (NoSuchBucketException e) {
            throw new ModelStoreException("bucket " + loc.bucket() + " does not exist (resolving " + loc + ")", e);
        } catch (SdkException e) {
            throw new ModelStoreException("cannot list " + loc.withKey(prefix) + ": " + e.getMessage(), e);
        }
        return objects;
    }

    private Optional<byte[]> getIfExists(S3Location loc) {
        try {
            byte[] bytes = s3.getObjectAsBytes(GetObjectRequest.builder().bucket(loc.bucket()).key(loc.key()).build())
                    .asByteArray();
            listener.objectDownloaded(loc.toUri(), bytes.length);
            return Optional.of(bytes);
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (SdkException e) {
            throw new ModelStoreException("cannot read " + loc + ": " + e.getMessage(), e);
        }
    }

    /**
     * Streams one object to {@code file}, hashing on the way so verification needs no second read. The body is
     * read inside the SDK's response transformer, so a connection cut mid-body is an SDK failure that the client's
     * retry strategy retries ({@code S3ClientFactory.brokenConnection}); read from a returned stream instead, it
     * would fail the download. Each attempt starts the file and the hash afresh.
     */
    private Digest fetch(S3Location object, Path file) {
        try {
            Files.createDirectories(file.getParent());
            GetObjectRequest request = GetObjectRequest.builder().bucket(object.bucket()).key(object.key()).build();
            Digest d = s3.getObject(request, (GetObjectResponse response, AbortableInputStream in) -> {
                MessageDigest digest = ModelManifest.newSha256();
                try (OutputStream out = new DigestOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE,
                        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE), digest)) {
                    long size = in.transferTo(out);
                    return new Digest(size, HexFormat.of().formatHex(digest.digest()));
                }
            });
            listener.objectDownloaded(object.toUri(), d.size());
            return d;
        } catch (SdkException e) {
            throw new ModelStoreException("cannot download " + object + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ModelStoreException("cannot download " + object + " to " + file + ": " + e.getMessage(), e);
        }
    }

    /** The local file for a relative key, refusing keys that would escape the download directory. */
    private static Path target(Path tmp, String rel, S3Location dir) {
        try {
            ModelManifest.checkRelativePath(rel);
        } catch (IllegalArgumentException e) {
            throw new ModelStoreException("refusing to download " + dir.child(rel) + ": " + e.getMessage());
        }
        return tmp.resolve(rel);
    }

    private static void writeMetadata(Path tmp, S3Location source, boolean verified, String target,
                                      List<CachedFile> files) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("source", canonicalSource(source));
        root.put("verified", verified);
        root.put("target", target);
        var array = root.putArray("files");
        files.forEach(f -> array.addObject().put("path", f.path()).put("size", f.size()));
        Files.write(tmp.resolve(ENTRY_METADATA), JSON.writeValueAsBytes(root));
    }

    /** The entry's result path if its metadata matches this location and every file has its recorded size. */
    private Optional<Path> reuse(Path entryDir, S3Location loc) {
        try {
            JsonNode root = JSON.readTree(Files.readAllBytes(entryDir.resolve(ENTRY_METADATA)));
            if (!canonicalSource(loc).equals(root.path("source").asText())
                    || (!options.allowUnverified() && !root.path("verified").asBoolean(false))) {
                return Optional.empty();
            }
            for (JsonNode f : root.path("files")) {
                Path file = entryDir.resolve(f.path("path").asText());
                if (!Files.isRegularFile(file) || Files.size(file) != f.path("size").asLong(-1)) {
                    return Optional.empty();
                }
            }
            String target = root.path("target").asText("");
            return Optional.of(target.isEmpty() ? entryDir : entryDir.resolve(target));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static void deleteStaleTemporaries(Path cacheDir, String entryName) throws IOException {
        try (DirectoryStream<Path> stale = Files.newDirectoryStream(cacheDir, entryName + ".tmp-*")) {
            for (Path p : stale) {
                deleteRecursively(p);
            }
        }
    }

    static void deleteRecursively(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }

    private static String sha256Hex(String text) {
        return HexFormat.of().formatHex(ModelManifest.newSha256().digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    private record Digest(long size, String sha256) {
    }

    private record CachedFile(String path, long size) {
    }
}
