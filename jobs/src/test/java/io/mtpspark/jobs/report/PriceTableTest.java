package io.mtpspark.jobs.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
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
