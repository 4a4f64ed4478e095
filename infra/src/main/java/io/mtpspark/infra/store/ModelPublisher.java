package io.mtpspark.infra.store;

import io.mtpspark.infra.s3.S3Location;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * Uploads a local model or adapter directory to an S3 prefix together with its {@code manifest.json}, so that
 * {@link S3ModelStore} can verify it on every executor. If the directory already has a manifest it is verified
 * first (a stale manifest is never published) and defines which files are uploaded; otherwise one is computed
 * in memory from all regular files. The manifest is uploaded last, so a reader never sees a manifest whose files
 * are not all there yet.
 */
public final class ModelPublisher {
    private static final System.Logger LOG = System.getLogger(ModelPublisher.class.getName());
    /** S3's limit for a single PUT; larger files would need a multipart upload, which this class does not do. */
    static final long MAX_SINGLE_PUT_BYTES = 5L * 1024 * 1024 * 1024;

    private final S3Client s3;

    public ModelPublisher(S3Client s3) {
        this.s3 = s3;
    }

    /**
     * Publishes {@code localDir} under the prefix {@code target} (e.g. {@code s3://bucket/models/stories260K/})
     * and returns the manifest that was uploaded.
     */
    public ModelManifest publish(Path localDir, URI target) {
        S3Location dir = S3Location.parse(target);
        S3Location prefix = dir.withKey(dir.prefix());
        Path manifestFile = localDir.resolve(ModelManifest.FILE_NAME);
        ModelManifest manifest;
        if (Files.isRegularFile(manifestFile)) {
            manifest = ModelManifest.read(manifestFile);
            manifest.verify(localDir, localDir.toAbsolutePath() + "/");
        } else {
            manifest = ModelManifest.compute(localDir);
        }
        for (ModelManifest.Entry e : manifest.files()) {
            if (e.size() > MAX_SINGLE_PUT_BYTES) {
                throw new ModelStoreException("cannot publish " + e.path() + " (" + e.size()
                        + " bytes): larger than the 5 GiB single-upload limit and multipart upload is not implemented");
            }
        }
        for (ModelManifest.Entry e : manifest.files()) {
            put(prefix.child(e.path()), RequestBody.fromFile(localDir.resolve(e.path())));
        }
        put(prefix.child(ModelManifest.FILE_NAME), RequestBody.fromBytes(manifest.toJson()));
        LOG.log(Level.INFO, "published {0} file(s) from {1} to {2}", manifest.files().size(), localDir, prefix);
        return manifest;
    }

    private void put(S3Location object, RequestBody body) {
        try {
            s3.putObject(PutObjectRequest.builder().bucket(object.bucket()).key(object.key()).build(), body);
        } catch (SdkException e) {
            throw new ModelStoreException("cannot upload " + object + ": " + e.getMessage(), e);
        }
    }
}
