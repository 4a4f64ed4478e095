package io.mtpspark.jobs.testing;

import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/**
 * The one SparkSession of a test JVM (start-up costs ~15 s, so every test class shares it). {@code local[2,2]}:
 * two task slots and two attempts per task, so a test can kill a first attempt and watch Spark retry it. Loopback
 * only, no UI.
 */
public final class SharedSpark {
    private static SparkSession session;

    private SharedSpark() {
    }

    public static synchronized SparkSession session() {
        if (session == null) {
            session = SparkSession.builder()
                    .master("local[2,2]")
                    .appName("mtp-jobs-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "4")
                    .config("spark.sql.adaptive.enabled", "false")
                    .getOrCreate();
            Runtime.getRuntime().addShutdownHook(new Thread(session::stop));
        }
        return session;
    }

    public static Path repoRoot() {
        return Path.of(System.getProperty("mtp.repo.root", "..")).toAbsolutePath().normalize();
    }

    public static Path modelDir() {
        return repoRoot().resolve("models/stories260K");
    }
}
