package io.mtpspark.infra.testing;

import io.mtpspark.infra.s3.S3ClientFactory;
import io.mtpspark.infra.s3.S3Settings;
import io.mtpspark.infra.store.ModelStoreOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CreateBucketRequest;

/**
 * A real S3-compatible server (s3proxy, filesystem backend, signature checking on) running in its own JVM on
 * 127.0.0.1. One server is shared by all test classes of a test JVM: use it as a JUnit extension and take it as a
 * test or constructor parameter; it stops when the test JVM's root context closes.
 */
public final class S3ProxyServer implements AutoCloseable, ExtensionContext.Store.CloseableResource {
    public static final String ACCESS_KEY = "mtp-test-access";
    public static final String SECRET_KEY = "mtp-test-secret-key";

    private final Process process;
    private final Path baseDir;
    private final Path log;
    private final int port;
    private final S3Client client;

    private S3ProxyServer(Process process, Path baseDir, Path log, int port) {
        this.process = process;
        this.baseDir = baseDir;
        this.log = log;
        this.port = port;
        this.client = S3ClientFactory.create(settings());
    }

    public static S3ProxyServer start() throws IOException, InterruptedException {
        Path jar = Path.of(System.getProperty("s3proxy.jar", "target/s3proxy/s3proxy.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("s3proxy jar not found at " + jar + "; run the tests through Maven");
        }
        Path baseDir = Files.createTempDirectory("s3proxy-");
        Path data = Files.createDirectories(baseDir.resolve("data"));
        int port = freePort();
        Properties props = new Properties();
        props.setProperty("s3proxy.endpoint", "http://127.0.0.1:" + port);
        props.setProperty("s3proxy.authorization", "aws-v2-or-v4");
        props.setProperty("s3proxy.identity", ACCESS_KEY);
        props.setProperty("s3proxy.credential", SECRET_KEY);
        props.setProperty("jclouds.provider", "filesystem-nio2");
        props.setProperty("jclouds.filesystem.basedir", data.toString());
        Path config = baseDir.resolve("s3proxy.properties");
        try (Writer w = Files.newBufferedWriter(config, StandardCharsets.UTF_8)) {
            props.store(w, "test server");
        }
        Path log = baseDir.resolve("s3proxy.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar.toString(),
                "--properties", config.toString()))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!answers(port)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("s3proxy exited with " + process.exitValue() + ":\n" + Files.readString(log));
            }
            if (System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new IllegalStateException("s3proxy did not open port " + port + " within 30 s:\n" + Files.readString(log));
            }
            Thread.sleep(100);
        }
        return new S3ProxyServer(process, baseDir, log, port);
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public S3Settings settings() {
        return S3Settings.forEndpoint(endpoint(), "us-east-1", ACCESS_KEY, SECRET_KEY);
    }

    /** A client shared by tests; do not close it. */
    public S3Client client() {
        return client;
    }

    /** Creates a bucket with a unique name so tests never see each other's objects. */
    public String newBucket() {
        String bucket = "test-" + UUID.randomUUID().toString().substring(0, 13);
        client.createBucket(CreateBucketRequest.builder().bucket(bucket).build());
        return bucket;
    }

    public ModelStoreOptions storeOptions(Path cacheDir) {
        return new ModelStoreOptions(cacheDir, false);
    }

    @Override
    public void close() throws IOException {
        client.close();
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> walk = Files.walk(baseDir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    public Path logFile() {
        return log;
    }

    private static boolean answers(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** JUnit extension handing out the shared server. */
    public static final class Extension implements ParameterResolver {
        @Override
        public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
            return parameter.getParameter().getType() == S3ProxyServer.class;
        }

        @Override
        public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
            return context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                    .getOrComputeIfAbsent(S3ProxyServer.class, k -> {
                        try {
                            return start();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException(e);
                        }
                    }, S3ProxyServer.class);
        }
    }
}
