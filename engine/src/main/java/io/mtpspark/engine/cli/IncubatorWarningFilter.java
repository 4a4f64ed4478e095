package io.mtpspark.engine.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Copies a child JVM's stderr to ours, minus the {@code WARNING: Using incubator modules} line the JVM prints first
 * whenever {@code jdk.incubator.vector} is added: the launcher added the module itself, so the warning tells the user
 * nothing. Everything after the first line is copied as it arrives (progress lines stay live).
 */
final class IncubatorWarningFilter {
    static final String WARNING_PREFIX = "WARNING: Using incubator modules";

    private IncubatorWarningFilter() {
    }

    /** Copies {@code in} to {@code out} until end of stream, dropping the warning if it is the first line. */
    static void copy(InputStream in, OutputStream out) throws IOException {
        byte[] first = new byte[256];
        int n = 0;
        int b;
        while (n < first.length && (b = in.read()) != -1) {
            first[n++] = (byte) b;
            if (b == '\n') {
                break;
            }
        }
        String line = new String(first, 0, n, StandardCharsets.UTF_8);
        if (!(line.startsWith(WARNING_PREFIX) && line.endsWith("\n"))) {
            out.write(first, 0, n);
            out.flush();
        }
        byte[] buf = new byte[8192];
        int r;
        while ((r = in.read(buf)) != -1) {
            out.write(buf, 0, r);
            out.flush();
        }
    }

    /** A daemon thread running {@link #copy}; errors end the copy quietly (the child's exit status still counts). */
    static Thread start(InputStream in, OutputStream out) {
        Thread t = new Thread(() -> {
            try {
                copy(in, out);
            } catch (IOException ignored) {
                // our stderr or the child's went away: nothing left to show
            }
        }, "stderr-filter");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
