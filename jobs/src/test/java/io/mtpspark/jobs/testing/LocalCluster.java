package io.mtpspark.jobs.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Spark's {@code local-cluster[W,1,M]} master for a forked driver ({@link ForkedJob}): an in-driver standalone
 * master and W workers, each launching a real executor JVM from this build's classpath, offline and without a
 * Spark distribution. The launcher insists on a distribution's jar folder, so {@code SPARK_HOME} points at an
 * empty one and the executors get the classpath in full.
 *
 * <p>Each executor gets its own loopback address (127.0.0.2, 127.0.0.3, alternating by executor id): the executors'
 * {@code JAVA_HOME} is a folder whose {@code bin/java} rewrites {@code --hostname} and {@code --bind-address}
 * before starting the real JVM. Spark never runs a speculative copy on a host where the task already has an
 * attempt, so on one host speculation could never launch a duplicate; on two it does, as on a real cluster.
 */
public final class LocalCluster {
    private final Path dir;
    private final int workers;

    private LocalCluster(Path dir, int workers) {
        this.dir = dir;
        this.workers = workers;
    }

    /** A fresh cluster folder at {@code dir} (emptied first; kept afterwards for the executors' logs). */
    public static LocalCluster prepare(Path dir, int workers) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        Files.createDirectories(dir.resolve("spark-home/assembly/target/scala-2.13/jars"));
        Path java = Files.createDirectories(dir.resolve("java-home/bin")).resolve("java");
        String realJava = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Files.writeString(java, """
                #!/usr/bin/env bash
                # An executor's JVM on its own loopback address: 127.0.0.(2 + executor id mod 2).
                args=("$@")
                id=0
                for ((i = 0; i < ${#args[@]}; i++)); do
                  if [[ ${args[i]} == --executor-id ]]; then id=${args[i+1]}; fi
                done
                host=127.0.0.$((2 + id % 2))
                for ((i = 0; i < ${#args[@]}; i++)); do
                  if [[ ${args[i]} == --hostname || ${args[i]} == --bind-address ]]; then args[i+1]=$host; fi
                done
                exec REAL_JAVA "${args[@]}"
                """.replace("REAL_JAVA", realJava), StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        return new LocalCluster(dir, workers);
    }

    public String master() {
        return "local-cluster[" + workers + ",1,1024]";
    }

    /** Environment of the forked driver. */
    public Map<String, String> env() {
        return Map.of("SPARK_HOME", sparkHome().toString(), "SPARK_SCALA_VERSION", "2.13");
    }

    /** Driver JVM options: executors' classpath, flags, memory and launcher; plus {@code extra} settings. */
    public List<String> driverOptions(String... extra) {
        List<String> conf = new ArrayList<>(List.of("-Dspark.executor.memory=640m",
                "-Dspark.executor.extraClassPath=" + ForkedJob.classpath(),
                "-Dspark.executor.extraJavaOptions=" + String.join(" ", ForkedJob.jvmFlags()) + " -XX:+UseSerialGC",
                "-Dspark.executorEnv.JAVA_HOME=" + dir.resolve("java-home")));
        conf.addAll(List.of(extra));
        return conf;
    }

    public Path sparkHome() {
        return dir.resolve("spark-home");
    }

    /** The end of each executor's stderr, for a failure message. */
    public String executorLogs() throws IOException {
        Path work = sparkHome().resolve("work");
        if (!Files.isDirectory(work)) {
            return "(no executor logs under " + work + ")\n";
        }
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> walk = Files.walk(work)) {
            for (Path err : walk.filter(p -> p.getFileName().toString().equals("stderr")).toList()) {
                String text = Files.readString(err);
                sb.append(err).append(":\n").append(text, Math.max(0, text.length() - 1500), text.length())
                        .append("\n---\n");
            }
        }
        return sb.toString();
    }
}
