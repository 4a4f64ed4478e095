package io.mtpspark.infra.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Converts one string value to a target type, reporting failures with the key, the value and its origin. */
final class ValueConverter {
    private static final Pattern SHORT_DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    private ValueConverter() {
    }

    static Object convert(ConfigValue v, Class<?> type, boolean positive) {
        String raw = v.value().trim();
        if (type == String.class) {
            return v.value();
        }
        if (type == int.class || type == Integer.class) {
            String expected = positive ? "a positive integer" : "an integer";
            try {
                int n = Integer.parseInt(raw);
                if (positive && n <= 0) {
                    throw invalid(v, expected);
                }
                return n;
            } catch (NumberFormatException e) {
                throw invalid(v, expected);
            }
        }
        if (type == long.class || type == Long.class) {
            String expected = positive ? "a positive integer" : "an integer";
            try {
                long n = Long.parseLong(raw);
                if (positive && n <= 0) {
                    throw invalid(v, expected);
                }
                return n;
            } catch (NumberFormatException e) {
                throw invalid(v, expected);
            }
        }
        if (type == double.class || type == Double.class) {
            String expected = positive ? "a positive number" : "a number";
            try {
                double d = Double.parseDouble(raw);
                if (!Double.isFinite(d) || (positive && d <= 0)) {
                    throw invalid(v, expected);
                }
                return d;
            } catch (NumberFormatException e) {
                throw invalid(v, expected);
            }
        }
        if (type == boolean.class || type == Boolean.class) {
            // Strict on purpose: "yes"/"1"/"on" are accepted by some tools and not others; one spelling avoids surprises.
            if (raw.equalsIgnoreCase("true")) {
                return true;
            }
            if (raw.equalsIgnoreCase("false")) {
                return false;
            }
            throw invalid(v, "true or false");
        }
        if (type == Path.class) {
            try {
                if (raw.isEmpty()) {
                    throw invalid(v, "a file path");
                }
                return Path.of(raw);
            } catch (InvalidPathException e) {
                throw invalid(v, "a file path");
            }
        }
        if (type == URI.class) {
            try {
                URI uri = new URI(raw);
                if (raw.isEmpty()) {
                    throw invalid(v, "a URI");
                }
                return uri;
            } catch (URISyntaxException e) {
                throw invalid(v, "a URI");
            }
        }
        if (type == Duration.class) {
            Duration d = parseDuration(raw);
            if (d == null || d.isNegative() || (positive && d.isZero())) {
                throw invalid(v, positive ? "a positive duration such as 30s, 5m or PT1H" : "a duration such as 30s, 5m or PT1H");
            }
            return d;
        }
        if (type.isEnum()) {
            String wanted = raw.toUpperCase(Locale.ROOT).replace('-', '_');
            for (Object constant : type.getEnumConstants()) {
                if (((Enum<?>) constant).name().equals(wanted)) {
                    return constant;
                }
            }
            String choices = String.join(", ", Arrays.stream(type.getEnumConstants())
                    .map(c -> ((Enum<?>) c).name().toLowerCase(Locale.ROOT).replace('_', '-')).toList());
            throw invalid(v, "one of " + choices);
        }
        throw new IllegalArgumentException("unsupported configuration type " + type.getName() + " for --" + v.key());
    }

    private static Duration parseDuration(String raw) {
        Matcher m = SHORT_DURATION.matcher(raw.toLowerCase(Locale.ROOT));
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        try {
            return Duration.parse(raw);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    static ConfigException invalid(ConfigValue v, String expected) {
        return new ConfigException(v.key(), "--" + v.key() + ": expected " + expected + ", got \"" + v.value() + "\""
                + ConfigValues.originSuffix(v));
    }
}
