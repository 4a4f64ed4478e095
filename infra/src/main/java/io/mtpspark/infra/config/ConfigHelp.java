package io.mtpspark.infra.config;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * The {@code --help} text of a command whose options {@link ConfigBinder} binds: one line per option, its
 * description and then its default, taken from the record itself ({@link DefaultValue}; a plain component without
 * one is required; an {@code Optional} one is absent by default unless the description says otherwise). The
 * descriptions live in a properties file (key = option name); {@link #undocumented} lists options it lacks, so a test
 * can keep help and options in step.
 */
public final class ConfigHelp {
    private ConfigHelp() {
    }

    /**
     * Renders {@code usage}, then one line per option of {@code types} followed by {@code extraKeys} (options read
     * elsewhere, e.g. infrastructure settings; their description states their default).
     */
    @SafeVarargs
    public static String render(String usage, Properties descriptions, Collection<String> extraKeys,
                                Class<? extends Record>... types) {
        Map<String, String> lines = new LinkedHashMap<>();
        for (Class<? extends Record> type : types) {
            for (RecordComponent c : type.getRecordComponents()) {
                String key = ConfigBinder.keyOf(c);
                lines.put(key, descriptions.getProperty(key, "") + defaultOf(c));
            }
        }
        for (String key : extraKeys) {
            lines.putIfAbsent(key, descriptions.getProperty(key, ""));
        }
        int width = lines.keySet().stream().mapToInt(String::length).max().orElse(0) + 2;
        StringBuilder sb = new StringBuilder(usage).append('\n');
        lines.forEach((key, text) -> sb.append("  --").append(key).append(" ".repeat(width - key.length()))
                .append(text).append('\n'));
        return sb.toString();
    }

    /** Options of {@code types} and {@code extraKeys} without a description in {@code descriptions}. */
    @SafeVarargs
    public static List<String> undocumented(Properties descriptions, Collection<String> extraKeys,
                                            Class<? extends Record>... types) {
        List<String> keys = new ArrayList<>(ConfigBinder.keysOf(types));
        keys.addAll(extraKeys);
        return keys.stream().filter(k -> descriptions.getProperty(k, "").isBlank()).toList();
    }

    private static String defaultOf(RecordComponent c) {
        DefaultValue d = c.getAnnotation(DefaultValue.class);
        if (d != null) {
            return " (default: " + d.value() + ")";
        }
        return c.getType() == Optional.class ? "" : " (required)";
    }
}
