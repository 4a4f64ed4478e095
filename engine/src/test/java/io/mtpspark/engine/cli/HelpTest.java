package io.mtpspark.engine.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --help} on every command (those registered now and any added later): exit 0, a usage text, and for every
 * option a one-line description that states its default (a default value, or words saying what absence means).
 */
class HelpTest {
    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();
    private final ByteArrayOutputStream out = console.out;
    private final ByteArrayOutputStream err = console.err;

    @Test
    void everyCommandAnswersHelpWithExitZero() {
        List<String> failures = new ArrayList<>();
        for (String name : new CommandLine(new Main()).getSubcommands().keySet()) {
            out.reset();
            err.reset();
            // required options must not be demanded when the user only asks for help
            int rc = Main.execute(name, "--help");
            String text = out.toString(StandardCharsets.UTF_8);
            if (rc != 0 || !text.contains("Usage: mtp-engine " + name)) {
                failures.add(name + " --help: exit " + rc + ", stderr " + err.toString(StandardCharsets.UTF_8));
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        out.reset();
        assertEquals(0, Main.execute("--help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("generate"));
    }

    @Test
    void everyOptionHasAOneLineDescriptionAndItsDefault() {
        List<String> failures = new ArrayList<>();
        for (CommandLine sub : new CommandLine(new Main()).getSubcommands().values()) {
            for (OptionSpec o : sub.getCommandSpec().options()) {
                String where = sub.getCommandName() + " " + o.longestName();
                String[] d = o.description();
                if (d.length != 1 || d[0].isBlank()) {
                    failures.add(where + ": no one-line description");
                    continue;
                }
                if (d[0].contains("${DEFAULT-VALUE}")) {
                    failures.add(where + ": the usage appends the default already; it would be printed twice");
                }
                boolean flag = o.type() == boolean.class || o.type() == Boolean.class;
                boolean saysDefault = d[0].toLowerCase(Locale.ROOT).contains("default")
                        || d[0].toLowerCase(Locale.ROOT).contains("required");
                if (!flag && !o.usageHelp() && !o.versionHelp() && o.defaultValue() == null && !o.required()
                        && !saysDefault) {
                    failures.add(where + ": neither a default value nor a description of its absence");
                }
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @Test
    void usageShowsTheDefaults() {
        assertEquals(0, Main.execute("train", "--help"));
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("--lr=<lr>") && text.contains("Default: 2e-4"), text);
    }
}
