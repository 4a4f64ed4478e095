package io.mtpspark.jobs.testing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;

/**
 * Captures what a run logs while it is open, at {@code level} and above (Spark, Hadoop, the SDK through log4j; our
 * System.Logger lines and anything printed through stdout/stderr), so a test can search the logs of a run.
 */
public final class LogCapture implements AutoCloseable {
    private final StringWriter log4j = new StringWriter();
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final PrintStream oldOut = System.out;
    private final PrintStream oldErr = System.err;
    private final WriterAppender appender;
    private final Level oldLevel;

    public LogCapture(Level level) {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration config = ctx.getConfiguration();
        appender = WriterAppender.newBuilder().setName("mtp-log-capture").setTarget(log4j)
                .setLayout(PatternLayout.newBuilder().withPattern("%p %c: %m%n%throwable").build()).build();
        appender.start();
        LoggerConfig root = config.getRootLogger();
        oldLevel = root.getLevel();
        root.addAppender(appender, level, null);
        root.setLevel(level);
        ctx.updateLoggers();
        PrintStream tee = new PrintStream(console, true, StandardCharsets.UTF_8);
        System.setOut(tee);
        System.setErr(tee);
    }

    public String text() {
        return log4j + console.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        System.setOut(oldOut);
        System.setErr(oldErr);
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        LoggerConfig root = ctx.getConfiguration().getRootLogger();
        root.removeAppender(appender.getName());
        root.setLevel(oldLevel);
        ctx.updateLoggers();
        appender.stop();
    }
}
