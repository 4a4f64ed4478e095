package io.mtpspark.infra.config;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Help lines take the default from the record and the description from the properties. */
class ConfigHelpTest {
    record Options(String input, @DefaultValue("128") int maxTokens, Optional<String> runId) {
    }

    @Test
    void oneLinePerOptionWithItsDefault() {
        Properties d = new Properties();
        d.setProperty("input", "where rows come from");
        d.setProperty("max-tokens", "tokens per row");
        d.setProperty("run-id", "run id (default: time + random)");
        d.setProperty("s3-region", "S3 region (default: us-east-1)");
        assertEquals("usage: x\n"
                + "  --input       where rows come from (required)\n"
                + "  --max-tokens  tokens per row (default: 128)\n"
                + "  --run-id      run id (default: time + random)\n"
                + "  --s3-region   S3 region (default: us-east-1)\n",
                ConfigHelp.render("usage: x", d, List.of("s3-region"), Options.class));
        d.remove("max-tokens");
        assertEquals(List.of("max-tokens", "verbose"), ConfigHelp.undocumented(d, List.of("s3-region", "verbose"),
                Options.class));
    }
}
