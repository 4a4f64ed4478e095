package io.mtpspark.jobs.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds small JSONL prompt files for tests. */
public final class Inputs {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] OPENINGS = {"Once upon a time", "Tom had a red ball", "The little cat",
            "One day, Lily went to the park", "There was a big tree", "Sam liked to sing"};
    private static final String[] DOMAINS = {"animals", "play", "family"};

    private Inputs() {
    }

    /** {@code n} rows with ids {@code r000…}, cycling openings and domains. */
    public static List<Map<String, Object>> rows(int n) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", String.format("r%03d", i));
            row.put("prompt", OPENINGS[i % OPENINGS.length]);
            row.put("domain", DOMAINS[i % DOMAINS.length]);
            rows.add(row);
        }
        return rows;
    }

    public static Path writeJsonl(Path file, List<Map<String, Object>> rows) {
        StringBuilder sb = new StringBuilder();
        try {
            for (Map<String, Object> row : rows) {
                sb.append(JSON.writeValueAsString(row)).append('\n');
            }
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, sb.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }
}
