package io.mtpspark.jobs.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.jobs.testing.SharedSpark;
import java.nio.file.Files;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The shipped price table, price files, and how a run's instance type and day are chosen. */
class PriceTableTest {
    @Test
    void shippedTableHasTheGpuTypesTheDeploymentUsesAndANominalLocalPrice() {
        PriceTable t = PriceTable.shipped();
        assertEquals(1, t.version());
        assertEquals(1.006, t.priceOf("g5.xlarge").usdPerHour());
        for (String type : new String[] {"g5.xlarge", "g6.xlarge", "p4d.24xlarge", "p5.48xlarge"}) {
            assertEquals("gpu", t.priceOf(type).kind(), type);
            assertTrue(t.priceOf(type).usdPerHour() > 0, type);
        }
        assertEquals(8, t.priceOf("p5.48xlarge").slots());
        assertEquals("cpu", t.priceOf("local-cpu").kind());
    }

    @Test
    void theDeploymentsDefaultGpuInstanceTypeHasAPrice() throws Exception {
        String variables = Files.readString(SharedSpark.repoRoot().resolve("terraform/variables.tf"));
        Matcher m = Pattern.compile("variable \"gpu_instance_type\" \\{[^}]*?default\\s*=\\s*\"([^\"]+)\"",
                Pattern.DOTALL).matcher(variables);
        assertTrue(m.find(), "no default for gpu_instance_type in terraform/variables.tf");
        assertEquals("gpu", PriceTable.shipped().priceOf(m.group(1)).kind(), m.group(1));
    }

    @Test
    void aPriceFileWithoutNumericPricesIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> PriceTable.parse("{\"instances\": {}}", "f"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PriceTable.parse("{\"instances\": {\"a\": {\"usd_per_hour\": \"cheap\"}}}", "f"));
        assertTrue(e.getMessage().contains("a has no numeric usd_per_hour"), e.getMessage());
    }

    @Test
    void instanceTypeComesFromTheOptionThenTheManifestThenTheDefault() {
        String manifest = "{\"started_at\": \"2026-11-26T23:59:59.5Z\", \"options\": {\"instance-type\": \"g6.xlarge\"}}";
        RunInfo fromOption = RunInfo.resolve("r", manifest, Optional.of("p5.48xlarge"), "local-cpu");
        assertEquals("p5.48xlarge", fromOption.instanceType());
        assertEquals("option", fromOption.instanceTypeSource());
        RunInfo fromManifest = RunInfo.resolve("r", manifest, Optional.empty(), "local-cpu");
        assertEquals("g6.xlarge", fromManifest.instanceType());
        assertEquals("2026-11-26", fromManifest.day(), "UTC date of started_at");
        RunInfo plain = RunInfo.resolve("r", "{\"started_at\": \"2026-11-27T00:00:00Z\", \"options\": {\"instance-type\": null}}",
                Optional.empty(), "local-cpu");
        assertEquals("local-cpu", plain.instanceType());
        assertEquals("default", plain.instanceTypeSource());
        RunInfo none = RunInfo.resolve("r", null, Optional.empty(), "local-cpu");
        assertEquals(RunInfo.UNKNOWN_DAY, none.day());
    }
}
