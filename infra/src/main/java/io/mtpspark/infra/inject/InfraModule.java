package io.mtpspark.infra.inject;

import com.google.inject.AbstractModule;
import com.google.inject.Provider;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.mtpspark.infra.config.ConfigValues;
import io.mtpspark.infra.objects.ObjectStorage;
import io.mtpspark.infra.s3.S3ClientFactory;
import io.mtpspark.infra.s3.S3Settings;
import io.mtpspark.infra.store.ContentIdentity;
import io.mtpspark.infra.store.DownloadListener;
import io.mtpspark.infra.store.LocalModelStore;
import io.mtpspark.infra.store.ModelPublisher;
import io.mtpspark.infra.store.ModelStore;
import io.mtpspark.infra.store.ModelStoreOptions;
import io.mtpspark.infra.store.RoutingModelStore;
import io.mtpspark.infra.store.S3ModelStore;
import java.util.Objects;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Guice bindings for the infrastructure services: {@link S3Settings} and {@link ModelStoreOptions} as given,
 * one {@link S3Client} per injector (built lazily from the settings), {@link ModelStore} as a
 * {@link RoutingModelStore} over {@link LocalModelStore} and {@link S3ModelStore}, {@link ObjectStorage} and
 * {@link ModelPublisher}. The S3 client is created only when something first needs S3, so jobs that read local
 * models need no AWS setup. Construct with {@code Guice.createInjector(new InfraModule(s3Settings, storeOptions))}
 * or {@code new InfraModule(configValues)}; the client lives as long as the injector (one per executor JVM).
 */
public final class InfraModule extends AbstractModule {
    private final S3Settings s3Settings;
    private final ModelStoreOptions storeOptions;
    private final DownloadListener downloadListener;

    public InfraModule(S3Settings s3Settings, ModelStoreOptions storeOptions) {
        this(s3Settings, storeOptions, DownloadListener.NONE);
    }

    public InfraModule(S3Settings s3Settings, ModelStoreOptions storeOptions, DownloadListener downloadListener) {
        this.s3Settings = Objects.requireNonNull(s3Settings, "s3Settings");
        this.storeOptions = Objects.requireNonNull(storeOptions, "storeOptions");
        this.downloadListener = Objects.requireNonNull(downloadListener, "downloadListener");
    }

    /** Settings from configuration keys; see {@link S3Settings#fromConfig} and {@link ModelStoreOptions#fromConfig}. */
    public InfraModule(ConfigValues config) {
        this(S3Settings.fromConfig(config), ModelStoreOptions.fromConfig(config));
    }

    @Override
    protected void configure() {
        bind(S3Settings.class).toInstance(s3Settings);
        bind(ModelStoreOptions.class).toInstance(storeOptions);
        bind(DownloadListener.class).toInstance(downloadListener);
    }

    @Provides
    @Singleton
    S3Client s3Client(S3Settings settings) {
        return S3ClientFactory.create(settings);
    }

    @Provides
    @Singleton
    LocalModelStore localModelStore(ModelStoreOptions options) {
        return new LocalModelStore(options);
    }

    @Provides
    @Singleton
    S3ModelStore s3ModelStore(S3Client s3, ModelStoreOptions options, DownloadListener listener) {
        return new S3ModelStore(s3, options, listener);
    }

    @Provides
    @Singleton
    ModelStore modelStore(LocalModelStore local, Provider<S3ModelStore> s3Store) {
        // The S3 side is resolved on first S3 use, so a local-only job never builds an S3 client.
        ModelStore lazyS3 = new ModelStore() {
            @Override
            public java.nio.file.Path resolve(java.net.URI location) {
                return s3Store.get().resolve(location);
            }

            @Override
            public ContentIdentity identify(java.net.URI location) {
                return s3Store.get().identify(location);
            }
        };
        return RoutingModelStore.of(local, lazyS3);
    }

    @Provides
    @Singleton
    ObjectStorage objectStorage(Provider<S3Client> s3) {
        return new ObjectStorage(s3::get);
    }

    @Provides
    @Singleton
    ModelPublisher modelPublisher(S3Client s3) {
        return new ModelPublisher(s3);
    }
}
