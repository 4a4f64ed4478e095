package io.mtpspark.jobs.testing;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs {@code ./mtp generate-job} as its own driver JVM (the test JVM's classpath and JVM flags), so a test can kill
 * it, or give it a master that starts executor JVMs of its own. Output goes to {@code log}.
 */
public final class ForkedJob {
    private ForkedJob() {
    }

    public static Process start(Path log, Map<String, String> env, String... args) throws IOException {
        return start(log, env, List.of(), args);
    }

    /** With extra driver JVM options ({@code -Dspark.…} settings). */
    public static Process start(Path log, Map<String, String> env, List<String> jvmOptions, String... args)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmFlags());
        cmd.addAll(jvmOptions);
        cmd.add("-Xmx1g");
        cmd.add("-Dspark.ui.enabled=false");
        cmd.add("-Dspark.driver.bindAddress=127.0.0.1");
        cmd.add("-Dspark.driver.host=127.0.0.1");
        cmd.add("-Dmtp.repo.root=" + SharedSpark.repoRoot());
        cmd.add("-cp");
        cmd.add(classpath());
        cmd.add("io.mtpspark.jobs.cli.JobsMain");
        cmd.add("generate-job");
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().putAll(env);
        return pb.start();
    }

    /** The Spark/Vector API flags of this JVM, for child JVMs (drivers and executors). */
    public static List<String> jvmFlags() {
        List<String> flags = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-") || a.startsWith("-XX:+IgnoreUnrecognized") || a.startsWith("-Dio.netty")
                    || a.startsWith("--enable-native-access")) {
                flags.add(a);
            }
        }
        return flags;
    }

    /**
     * The test JVM's classpath as plain entries. Surefire may start the JVM from a manifest-only jar; Spark's
     * executor launcher needs the real entries, so they are read from {@code surefire.test.class.path} when set.
     */
    public static String classpath() {
        String full = System.getProperty("surefire.test.class.path");
        return full != null && !full.isBlank() ? full : System.getProperty("java.class.path");
    }
}
