package io.mtpspark.infra.store;

import io.mtpspark.infra.location.StorageUri;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Serves models that are already on a local (or locally mounted) file system: {@code file:} URIs and plain paths.
 * Nothing is copied; the path is returned after the same verification S3 models get: a directory is checked
 * against its {@code manifest.json}, a single file against the entry for it in the manifest of its directory. A
 * missing manifest is an error unless {@link ModelStoreOptions#allowUnverified()} is set. Verification hashes
 * every file, which costs one read of the model; callers resolve once per JVM.
 */
public final class LocalModelStore implements ModelStore {
    private static final System.Logger LOG = System.getLogger(LocalModelStore.class.getName());

    private final ModelStoreOptions options;

    public LocalModelStore(ModelStoreOptions options) {
        this.options = options;
    }

    @Override
    public Path resolve(URI location) {
        if (!StorageUri.isLocal(location)) {
            throw new ModelStoreException("LocalModelStore handles file: URIs and paths, not " + location);
        }
        Path path = StorageUri.localPath(location).toAbsolutePath().normalize();
        if (Files.isDirectory(path)) {
            Path manifestFile = path.resolve(ModelManifest.FILE_NAME);
            if (Files.isRegularFile(manifestFile)) {
                ModelManifest.read(manifestFile).verify(path, path + "/");
            } else {
                unverified(path, manifestFile);
            }
            return path;
        }
        if (Files.isRegularFile(path)) {
            Path manifestFile = path.resolveSibling(ModelManifest.FILE_NAME);
            if (Files.isRegularFile(manifestFile)) {
                String name = path.getFileName().toString();
                ModelManifest.Entry entry = ModelManifest.read(manifestFile).entry(name).orElseThrow(() ->
                        new ModelVerificationException(path + " is not listed in manifest " + manifestFile));
                ModelManifest.verifyFile(entry, path, path.toString());
            } else {
                unverified(path, manifestFile);
            }
            return path;
        }
        throw new ModelStoreException("model location does not exist: " + path);
    }

    @Override
    public ContentIdentity identify(URI location) {
        if (!StorageUri.isLocal(location)) {
            throw new ModelStoreException("LocalModelStore handles file: URIs and paths, not " + location);
        }
        Path path = StorageUri.localPath(location).toAbsolutePath().normalize();
        if (!Files.exists(path)) {
            throw new ModelStoreException("model location does not exist: " + path);
        }
        return identifyResolved(path, options.allowUnverified());
    }

    /**
     * The identity of local files: a directory by its manifest (every listed file), a file by its entry in the
     * manifest beside it; without a manifest (allowed only when {@code allowUnverified}) by hashing the bytes, so
     * the identity still follows the content. Executors call this on what {@link #resolve} (or the S3 cache)
     * returned, which is why the model cache's own bookkeeping file is left out.
     */
    public static ContentIdentity identifyResolved(Path path, boolean allowUnverified) {
        if (Files.isDirectory(path)) {
            Path manifestFile = path.resolve(ModelManifest.FILE_NAME);
            if (Files.isRegularFile(manifestFile)) {
                return ContentIdentity.of(ModelManifest.read(manifestFile).files(), null, true);
            }
            if (!allowUnverified) {
                throw ModelVerificationException.noManifest(path.toString(), manifestFile.toString());
            }
            List<ModelManifest.Entry> entries = ModelManifest.compute(path).files().stream()
                    .filter(e -> !e.path().equals(S3ModelStore.ENTRY_METADATA)).toList();
            return ContentIdentity.of(entries, null, false);
        }
        Path manifestFile = path.resolveSibling(ModelManifest.FILE_NAME);
        String name = path.getFileName().toString();
        if (Files.isRegularFile(manifestFile)) {
            ModelManifest.Entry entry = ModelManifest.read(manifestFile).entry(name).orElseThrow(() ->
                    new ModelVerificationException(path + " is not listed in manifest " + manifestFile));
            return ContentIdentity.of(List.of(entry), name, true);
        }
        // A single object from the S3 cache: verified against its manifest entry when downloaded, so its bytes
        // give the digest the manifest would. Elsewhere a file without a manifest is unverified.
        boolean fromS3Cache = Files.isRegularFile(path.resolveSibling(S3ModelStore.ENTRY_METADATA));
        if (!fromS3Cache && !allowUnverified) {
            throw ModelVerificationException.noManifest(path.toString(), manifestFile.toString());
        }
        ModelManifest.Entry entry;
        try {
            entry = new ModelManifest.Entry(name, Files.size(path), ModelManifest.sha256(path));
        } catch (java.io.IOException e) {
            throw new ModelStoreException("cannot read " + path + ": " + e.getMessage(), e);
        }
        return ContentIdentity.of(List.of(entry), name, fromS3Cache);
    }

    private void unverified(Path path, Path manifestFile) {
        if (!options.allowUnverified()) {
            throw ModelVerificationException.noManifest(path.toString(), manifestFile.toString());
        }
        LOG.log(Level.WARNING, "using unverified model {0}: no {1}", path, manifestFile);
    }
}
