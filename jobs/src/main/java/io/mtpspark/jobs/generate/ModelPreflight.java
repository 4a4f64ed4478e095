package io.mtpspark.jobs.generate;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.safetensors.SafetensorsFile;
import io.mtpspark.engine.session.GenerationChecks;
import io.mtpspark.infra.location.StorageUri;
import io.mtpspark.infra.store.ContentIdentity;
import io.mtpspark.infra.store.ModelStore;
import io.mtpspark.infra.store.ModelStoreException;
import io.mtpspark.jobs.cli.GenerateOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What the driver checks about the model, tokenizer and adapter before Spark starts a task, so a mistake costs a
 * second and one line instead of executor start-up and pages of traces: every location exists and has its manifest
 * (or {@code --allow-unverified-models}), and a local adapter has at least {@code --k} mask tokens. Reads manifests
 * and the adapter's header only, never the weights. Its result, the content digests, keys the run's
 * configuration ({@link ConfigHash}).
 */
final class ModelPreflight {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelPreflight() {
    }

    static ModelIdentities check(ModelStore store, GenerateOptions options) {
        ContentIdentity model = identify(store, "--model", options.model());
        Optional<ContentIdentity> tokenizer = options.tokenizer().map(t -> identify(store, "--tokenizer", t));
        Optional<ContentIdentity> adapter = options.adapter().map(a -> identify(store, "--adapter", a));
        options.adapter().filter(a -> StorageUri.isLocal(StorageUri.parse(a)) && options.effectiveK() > 0)
                .ifPresent(a -> checkAdapterK(a, options.effectiveK()));
        boolean verified = model.verified() && tokenizer.map(ContentIdentity::verified).orElse(true)
                && adapter.map(ContentIdentity::verified).orElse(true);
        return new ModelIdentities(model.digest(), tokenizer.map(ContentIdentity::digest).orElse(null),
                adapter.map(ContentIdentity::digest).orElse(null), verified);
    }

    private static ContentIdentity identify(ModelStore store, String option, String location) {
        try {
            return store.identify(location);
        } catch (ModelStoreException | IllegalArgumentException e) {
            throw new ModelRejectedException(option + " " + location + ": " + e.getMessage(), e);
        }
    }

    /** The adapter's K from its safetensors header ({@code mtp_config.k}), checked against {@code --k}. */
    private static void checkAdapterK(String location, int k) {
        Path path = StorageUri.localPath(StorageUri.parse(location));
        Path file = Files.isDirectory(path) ? LoadedEngine.adapterFile(path) : path;
        int adapterK;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            String meta = f.metadata().get("mtp_config");
            if (meta == null) {
                throw new ModelRejectedException("--adapter " + location + ": not an MTP adapter (the safetensors "
                        + "header has no mtp_config)", null);
            }
            adapterK = JSON.readTree(meta).path("k").asInt(0);
        } catch (EngineException e) {
            throw new ModelRejectedException("--adapter " + location + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ModelRejectedException("--adapter " + location + ": mtp_config is not valid JSON", e);
        }
        try {
            GenerationChecks.kWithinAdapter(k, adapterK);
        } catch (IllegalArgumentException e) {
            throw new ModelRejectedException(e.getMessage(), e);
        }
    }
}
