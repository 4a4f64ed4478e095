package io.mtpspark.infra.store;

import io.mtpspark.infra.location.StorageUri;
import java.net.URI;
import java.nio.file.Path;

/**
 * Makes a model or adapter available as local files. {@link #resolve(URI)} returns a local directory (for a
 * directory location) or file (for a single-object location) that has been verified against the model's
 * {@code manifest.json} and can be loaded directly. Implementations are thread-safe.
 */
public interface ModelStore {

    /**
     * Returns local, verified files for {@code location}.
     *
     * @throws ModelVerificationException if the content does not match its manifest, or there is no manifest and
     *                                    unverified models are not allowed
     * @throws ModelStoreException        if the location does not exist or cannot be fetched
     */
    Path resolve(URI location);

    /** Same as {@link #resolve(URI)} for a string that may be a URI or a plain path. */
    default Path resolve(String location) {
        return resolve(StorageUri.parse(location));
    }

    /**
     * What {@code location} holds, by content ({@link ContentIdentity}), read from its manifest without fetching
     * the model: cheap enough for the driver to check every location before a job starts, and to key results by
     * content rather than by location. Throws the same exceptions as {@link #resolve(URI)} for a location that
     * does not exist or has no manifest where one is required; content is verified only by {@code resolve}.
     */
    ContentIdentity identify(URI location);

    default ContentIdentity identify(String location) {
        return identify(StorageUri.parse(location));
    }
}
