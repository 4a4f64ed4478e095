package io.mtpspark.jobs.manifest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.google.inject.Inject;
import io.mtpspark.infra.location.StorageUri;
import io.mtpspark.infra.objects.ObjectStorage;
import java.net.URI;

/**
 * Writes {@link RunManifest}s as snake_case JSON through the infra {@link ObjectStorage}, so the same code writes to
 * a local directory or to S3 (an {@code s3a://} output is written with the SDK as {@code s3://}).
 */
public final class RunManifestWriter {
    static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    private final ObjectStorage storage;

    @Inject
    public RunManifestWriter(ObjectStorage storage) {
        this.storage = storage;
    }

    /** Location of a run's manifest under an output root. */
    public static String location(String outputRoot, String runId) {
        return stripSlash(outputRoot) + "/manifests/" + runId + ".json";
    }

    public URI write(String outputRoot, RunManifest manifest) {
        URI target = StorageUri.parse(location(outputRoot, manifest.runId()));
        storage.writeString(target, toJson(manifest));
        return target;
    }

    public static String toJson(RunManifest manifest) {
        try {
            return JSON.writeValueAsString(manifest) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise run manifest", e);
        }
    }

    static String stripSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }
}
