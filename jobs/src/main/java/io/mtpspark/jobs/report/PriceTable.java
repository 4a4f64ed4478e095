package io.mtpspark.jobs.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Hourly prices of the machines a run may have used, keyed by instance type, read from a versioned JSON file (the
 * shipped default is {@code prices-v1.json} next to this class; {@code --prices FILE} replaces it). A price is per
 * instance; {@code slots} says how many tasks share one instance (one task owns one GPU, so a p5.48xlarge has 8),
 * and a task-hour costs {@code usd_per_hour / slots}.
 *
 * @param version  the file's format/content version, shown on the dashboard
 * @param asOf     the date the prices were taken
 * @param source   where they come from and how far to trust them
 * @param prices   instance type to price
 */
public record PriceTable(int version, String currency, String asOf, String source, Map<String, InstancePrice> prices) {
    /** The shipped default, in the jar. */
    public static final String DEFAULT_RESOURCE = "/io/mtpspark/jobs/report/prices-v1.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One instance type's price.
     *
     * @param usdPerHour on-demand price of one instance-hour
     * @param slots      tasks that run side by side on one instance (GPUs per instance for GPU types)
     * @param kind       {@code gpu} or {@code cpu}: whether task seconds are GPU-seconds or CPU-seconds
     */
    public record InstancePrice(double usdPerHour, int slots, String kind, String note) {
        public InstancePrice {
            if (!(usdPerHour >= 0) || slots < 1) {
                throw new IllegalArgumentException("price must be >= 0 and slots >= 1, got " + usdPerHour + " / " + slots);
            }
        }

        /** What one task slot costs per hour. */
        public double usdPerSlotHour() {
            return usdPerHour / slots;
        }
    }

    public PriceTable {
        prices = Map.copyOf(prices);
    }

    /** The price of {@code instanceType}, or a message naming the known types. */
    public InstancePrice priceOf(String instanceType) {
        InstancePrice p = prices.get(instanceType);
        if (p == null) {
            throw new IllegalArgumentException("no price for instance type \"" + instanceType + "\" in price table v"
                    + version + " (known: " + String.join(", ", prices.keySet().stream().sorted().toList())
                    + "); add it to a --prices file");
        }
        return p;
    }

    public static PriceTable shipped() {
        try (InputStream in = PriceTable.class.getResourceAsStream(DEFAULT_RESOURCE)) {
            Objects.requireNonNull(in, DEFAULT_RESOURCE + " is missing from the jar");
            return parse(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8), DEFAULT_RESOURCE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses a price file; {@code origin} names it in error messages. */
    public static PriceTable parse(String json, String origin) {
        try {
            JsonNode root = JSON.readTree(json);
            JsonNode instances = root.path("instances");
            if (!instances.isObject() || instances.isEmpty()) {
                throw new IllegalArgumentException("price table " + origin + ": no \"instances\" object");
            }
            Map<String, InstancePrice> prices = new LinkedHashMap<>();
            instances.fields().forEachRemaining(e -> {
                JsonNode p = e.getValue();
                if (!p.path("usd_per_hour").isNumber()) {
                    throw new IllegalArgumentException("price table " + origin + ": " + e.getKey() + " has no numeric usd_per_hour");
                }
                prices.put(e.getKey(), new InstancePrice(p.get("usd_per_hour").asDouble(), p.path("slots").asInt(1),
                        p.path("kind").asText("gpu"), p.path("note").asText("")));
            });
            return new PriceTable(root.path("version").asInt(0), root.path("currency").asText("USD"),
                    root.path("as_of").asText("unknown"), root.path("source").asText(""), prices);
        } catch (IOException e) {
            throw new IllegalArgumentException("price table " + origin + " is not valid JSON: " + e.getMessage(), e);
        }
    }
}
