package io.mtpspark.jobs.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ./mtp generate-job --help} and {@code report --help}: every option with a description and its default. */
class JobsHelpTest {
    @Test
    void everyOptionOfEveryJobCommandIsDescribed() {
        for (JobsHelp.Command c : JobsHelp.Command.values()) {
            assertEquals(java.util.List.of(), JobsHelp.undocumented(c), c.commandName() + " options without help");
        }
    }

    @Test
    void helpPrintsDescriptionsAndDefaultsAndReturns() {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            // returning from main (no System.exit) is exit status 0; nothing required is asked for
            JobsMain.main(new String[]{"generate-job", "--help"});
            JobsMain.main(new String[]{"report", "--out", "x", "-h"});
            JobsMain.main(new String[]{"manifest", "--help"});
        } finally {
            System.setOut(old);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("usage: generate-job --input PATH"), text);
        assertTrue(text.matches("(?s).*\\n  --max-tokens +tokens to generate per row at most .*\\(default: 128\\)\\n.*"),
                text);
        assertTrue(text.matches("(?s).*\\n  --input +Parquet or JSON lines input.*\\(required\\)\\n.*"), text);
        assertTrue(text.matches("(?s).*\\n  --s3-region +S3 region \\(default: us-east-1\\)\\n.*"), text);
        assertTrue(text.matches("(?s).*\\n  --slowest +how many of the slowest tasks to list \\(default: 15\\)\\n.*"),
                text);
        assertTrue(text.contains("usage: manifest DIR"), text);
    }
}
