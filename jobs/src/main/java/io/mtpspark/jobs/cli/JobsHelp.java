package io.mtpspark.jobs.cli;

import io.mtpspark.infra.config.ConfigHelp;
import io.mtpspark.infra.config.ConfigSource;
import io.mtpspark.jobs.inject.InfraKeys;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * {@code --help} of the job commands: the option records' own defaults ({@link ConfigHelp}) with the one-line
 * descriptions of {@code <command>.help.properties} next to this class. Every command lists its record's options,
 * then the infrastructure settings, {@code --config-file} and {@code --verbose}.
 */
public final class JobsHelp {
    /** The commands {@link JobsMain} runs, each with its usage line and options record. */
    public enum Command {
        GENERATE_JOB("generate-job", GenerateOptions.class,
                "usage: generate-job --input PATH --output PATH --model PATH [options]   (./mtp generate-job …)"),
        REPORT("report", ReportOptions.class, "usage: report --runs ROOT[,ROOT…] --out DIR [options]   (./mtp report …)");

        final String name;
        final Class<? extends Record> options;
        final String usage;

        Command(String name, Class<? extends Record> options, String usage) {
            this.name = name;
            this.options = options;
            this.usage = usage;
        }

        public String commandName() {
            return name;
        }
    }

    private JobsHelp() {
    }

    public static String text(Command c) {
        return ConfigHelp.render(c.usage, descriptions(c), extraKeys(), c.options);
    }

    /** Options of {@code c} that have no description (a test keeps this empty). */
    public static List<String> undocumented(Command c) {
        return ConfigHelp.undocumented(descriptions(c), extraKeys(), c.options);
    }

    /** Whether {@code args} ask for help ({@code --help} or {@code -h} anywhere). */
    public static boolean asked(String[] args) {
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                return true;
            }
        }
        return false;
    }

    private static List<String> extraKeys() {
        List<String> keys = new ArrayList<>(InfraKeys.KEYS);
        keys.add(ConfigSource.CONFIG_FILE_KEY);
        keys.add("verbose");
        return keys;
    }

    private static Properties descriptions(Command c) {
        Properties p = new Properties();
        try (InputStream in = JobsHelp.class.getResourceAsStream(c.name + ".help.properties")) {
            if (in != null) {
                p.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }
}
