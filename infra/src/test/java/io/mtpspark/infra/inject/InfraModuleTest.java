package io.mtpspark.infra.inject;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.util.Modules;
import io.mtpspark.infra.config.ConfigSource;
import io.mtpspark.infra.config.ConfigValues;
import io.mtpspark.infra.objects.ObjectStorage;
import io.mtpspark.infra.s3.S3Credentials;
import io.mtpspark.infra.s3.S3Settings;
import io.mtpspark.infra.store.ModelManifest;
import io.mtpspark.infra.store.ModelPublisher;
import io.mtpspark.infra.store.ModelStore;
import io.mtpspark.infra.store.ModelStoreException;
import io.mtpspark.infra.store.ModelStoreOptions;
import io.mtpspark.infra.testing.ModelFixture;
import io.mtpspark.infra.testing.S3ProxyServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

@ExtendWith(S3ProxyServer.Extension.class)
class InfraModuleTest {
    private final S3ProxyServer server;

    @TempDir
    Path dir;

    InfraModuleTest(S3ProxyServer server) {
        this.server = server;
    }

    @Test
    void configuredInjectorRoutesModelsByScheme() throws IOException {
        ConfigValues config = ConfigSource.builder()
                .commandLine("--s3-endpoint", server.endpoint().toString(), "--model-cache-dir", dir.resolve("cache").toString())
                .environment(Map.of("MTP_S3_ACCESS_KEY", S3ProxyServer.ACCESS_KEY,
                        "MTP_S3_SECRET_KEY", S3ProxyServer.SECRET_KEY), "MTP_")
                .build();
        Injector injector = Guice.createInjector(new InfraModule(config));

        S3Settings settings = injector.getInstance(S3Settings.class);
        assertTrue(settings.pathStyle(), "an endpoint implies path-style addressing");
        assertFalse(settings.toString().contains(S3ProxyServer.SECRET_KEY), "settings must not print secrets");
        assertSame(injector.getInstance(S3Client.class), injector.getInstance(S3Client.class));
        assertSame(injector.getInstance(ModelStore.class), injector.getInstance(ModelStore.class));

        Path model = ModelFixture.copyModel(dir.resolve("model"));
        ModelManifest.write(model);
        String bucket = server.newBucket();
        URI remote = URI.create("s3://" + bucket + "/models/m/");
        injector.getInstance(ModelPublisher.class).publish(model, remote);

        ModelStore store = injector.getInstance(ModelStore.class);
        assertEquals(model, store.resolve(model.toString()));
        assertEquals(model, store.resolve(model.toUri()));
        Path fromS3 = store.resolve(remote);
        assertTrue(fromS3.startsWith(dir.resolve("cache").toRealPath()), fromS3.toString());
        assertArrayEquals(Files.readAllBytes(model.resolve(ModelFixture.WEIGHTS)),
                Files.readAllBytes(fromS3.resolve(ModelFixture.WEIGHTS)));
        ModelStoreException e = assertThrows(ModelStoreException.class, () -> store.resolve(URI.create("hdfs://nn/m")));
        assertTrue(e.getMessage().startsWith("no model store for scheme \"hdfs\""), e.getMessage());

        ObjectStorage storage = injector.getInstance(ObjectStorage.class);
        URI runManifest = URI.create("s3://" + bucket + "/out/_run.json");
        storage.writeString(runManifest, "{\"ok\":true}");
        assertEquals("{\"ok\":true}", storage.readString(runManifest));
    }

    @Test
    void localOnlyUseNeverBuildsAnS3Client() throws IOException {
        Path model = ModelFixture.copyModel(dir.resolve("model"));
        AtomicInteger clientsBuilt = new AtomicInteger();
        Injector injector = Guice.createInjector(Modules.override(
                        new InfraModule(server.settings(), new ModelStoreOptions(dir.resolve("cache"), true)))
                .with(binder -> binder.bind(S3Client.class).toProvider(() -> {
                    clientsBuilt.incrementAndGet();
                    return server.client();
                })));

        assertEquals(model, injector.getInstance(ModelStore.class).resolve(model.toUri()));
        injector.getInstance(ObjectStorage.class).writeString(dir.resolve("x.json").toUri(), "{}");
        assertEquals(0, clientsBuilt.get(), "local models and files must not need S3");

        injector.getInstance(ObjectStorage.class).exists(URI.create("s3://" + server.newBucket() + "/k"));
        assertEquals(1, clientsBuilt.get());
    }

    @Test
    void defaultsUseTheCredentialChainAndTheTempDirectory() {
        ConfigValues empty = ConfigSource.builder().build();
        S3Settings settings = S3Settings.fromConfig(empty);
        assertEquals(S3Credentials.defaultChain(), settings.credentials());
        assertEquals("us-east-1", settings.region());
        assertTrue(settings.endpoint().isEmpty());
        assertEquals(ModelStoreOptions.defaultCacheDir(), ModelStoreOptions.fromConfig(empty).cacheDir());
    }
}
