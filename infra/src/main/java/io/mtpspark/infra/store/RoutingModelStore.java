package io.mtpspark.infra.store;

import io.mtpspark.infra.location.StorageUri;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Chooses the {@link ModelStore} for a location by its URI scheme, so callers can take any model location from
 * configuration without caring where it lives. The empty scheme stands for plain paths.
 */
public final class RoutingModelStore implements ModelStore {
    private final Map<String, ModelStore> byScheme;

    public RoutingModelStore(Map<String, ModelStore> byScheme) {
        Map<String, ModelStore> copy = new TreeMap<>();
        byScheme.forEach((scheme, store) -> copy.put(scheme.toLowerCase(Locale.ROOT), store));
        this.byScheme = Map.copyOf(copy);
    }

    /** Plain paths and {@code file:} go to {@code local}; {@code s3:} and {@code s3a:} to {@code s3}. */
    public static RoutingModelStore of(ModelStore local, ModelStore s3) {
        return new RoutingModelStore(Map.of("", local, "file", local, "s3", s3, "s3a", s3));
    }

    @Override
    public Path resolve(URI location) {
        return storeFor(location).resolve(location);
    }

    @Override
    public ContentIdentity identify(URI location) {
        return storeFor(location).identify(location);
    }

    private ModelStore storeFor(URI location) {
        String scheme = StorageUri.scheme(location);
        ModelStore store = byScheme.get(scheme);
        if (store == null) {
            throw new ModelStoreException("no model store for scheme \"" + scheme + "\" in " + location
                    + "; supported: " + String.join(", ", new TreeMap<>(byScheme).keySet().stream()
                    .map(s -> s.isEmpty() ? "plain paths" : s + ":").toList()));
        }
        return store;
    }
}
