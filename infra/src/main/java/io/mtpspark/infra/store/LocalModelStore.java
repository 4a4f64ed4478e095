package io.mtpspark.infra.store;

import io.mtpspark.infra.location.StorageUri;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

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

    private void unverified(Path path, Path manifestFile) {
        if (!options.allowUnverified()) {
            throw new ModelVerificationException("no manifest for " + path + " (expected " + manifestFile
                    + "); create one with ModelManifest.write(dir) or allow unverified models");
        }
        LOG.log(Level.WARNING, "using unverified model {0}: no {1}", path, manifestFile);
    }
}
