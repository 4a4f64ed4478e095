package io.mtpspark.infra.store;

import java.net.URI;

/**
 * Told about every object {@link S3ModelStore} actually fetches (model files and manifests), after the fetch
 * completed. Used for metrics and by tests to prove that a cached model is not downloaded again.
 */
@FunctionalInterface
public interface DownloadListener {
    DownloadListener NONE = (object, bytes) -> { };

    void objectDownloaded(URI object, long bytes);
}
