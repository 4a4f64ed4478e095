package io.mtpspark.infra.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The integrity manifest stored as {@value #FILE_NAME} at the root of a published model or adapter directory:
 *
 * <pre>{@code
 * {
 *   "version": 1,
 *   "files": [
 *     {"path": "stories260K.bin", "size": 1056540, "sha256": "<64 lower-case hex digits>"},
 *     {"path": "tokenizer/tok512.bin", "size": 6227, "sha256": "..."}
 *   ]
 * }
 * }</pre>
 *
 * <p>{@code path} is relative to the directory, uses {@code /} separators and may not contain empty, {@code .} or
 * {@code ..} segments (so a manifest can never make a reader write outside its target directory); the manifest
 * does not list itself. {@code version} may be omitted and means 1; unknown fields are ignored so later versions
 * can add information. Files are listed sorted by path. Every listed file must exist with exactly that size and
 * SHA-256 for the directory to verify; files not listed are not part of the model.
 */
public record ModelManifest(int version, List<Entry> files) {
    public static final String FILE_NAME = "manifest.json";
    public static final int CURRENT_VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

    /** One file of the model: relative path, size in bytes, lower-case hex SHA-256. */
    public record Entry(String path, long size, String sha256) {
        public Entry {
            checkRelativePath(path);
            if (size < 0) {
                throw new IllegalArgumentException("negative size for " + path);
            }
            if (sha256 == null || !SHA256_HEX.matcher(sha256.toLowerCase(Locale.ROOT)).matches()) {
                throw new IllegalArgumentException("sha256 of " + path + " must be 64 hex digits, got " + sha256);
            }
            sha256 = sha256.toLowerCase(Locale.ROOT);
        }
    }

    public ModelManifest {
        if (version != CURRENT_VERSION) {
            throw new IllegalArgumentException("unsupported manifest version " + version + " (this reader knows "
                    + CURRENT_VERSION + ")");
        }
        List<Entry> sorted = new ArrayList<>(files);
        sorted.sort(Comparator.comparing(Entry::path));
        Set<String> seen = new HashSet<>();
        for (Entry e : sorted) {
            if (!seen.add(e.path())) {
                throw new IllegalArgumentException("file listed twice in manifest: " + e.path());
            }
        }
        files = List.copyOf(sorted);
    }

    public Optional<Entry> entry(String path) {
        return files.stream().filter(e -> e.path().equals(path)).findFirst();
    }

    /** Size and SHA-256 of every regular file under {@code dir} except {@value #FILE_NAME} itself. */
    public static ModelManifest compute(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelStoreException("not a directory: " + dir);
        }
        List<Entry> entries = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
                String rel = relativePath(dir, file);
                if (!rel.equals(FILE_NAME)) {
                    entries.add(new Entry(rel, Files.size(file), sha256(file)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot scan " + dir, e);
        }
        return new ModelManifest(CURRENT_VERSION, entries);
    }

    /**
     * Computes the manifest of {@code dir} and writes it to {@code dir/manifest.json} (replacing any old one
     * atomically, so a reader never sees half a manifest). This is how tools prepare a model for publishing.
     */
    public static ModelManifest write(Path dir) {
        ModelManifest manifest = compute(dir);
        Path target = dir.resolve(FILE_NAME);
        try {
            Path tmp = Files.createTempFile(dir, ".manifest-", ".tmp");
            try {
                Files.write(tmp, manifest.toJson());
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target, e);
        }
        return manifest;
    }

    public static ModelManifest read(Path file) {
        try {
            return parse(Files.readAllBytes(file), file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read manifest " + file, e);
        }
    }

    /** Parses manifest JSON; {@code source} names where it came from in error messages. */
    public static ModelManifest parse(byte[] json, String source) {
        try {
            JsonNode root = JSON.readTree(json);
            if (root == null || !root.isObject()) {
                throw new ModelVerificationException("invalid manifest " + source + ": not a JSON object");
            }
            int version = root.has("version") ? root.get("version").asInt(-1) : CURRENT_VERSION;
            JsonNode files = root.get("files");
            if (files == null || !files.isArray()) {
                throw new ModelVerificationException("invalid manifest " + source + ": no \"files\" array");
            }
            List<Entry> entries = new ArrayList<>();
            for (JsonNode f : files) {
                JsonNode path = f.get("path");
                JsonNode size = f.get("size");
                JsonNode sha = f.get("sha256");
                if (path == null || !path.isTextual() || size == null || !size.canConvertToLong()
                        || sha == null || !sha.isTextual()) {
                    throw new ModelVerificationException("invalid manifest " + source
                            + ": each file needs a string \"path\", an integer \"size\" and a string \"sha256\", got " + f);
                }
                entries.add(new Entry(path.asText(), size.asLong(), sha.asText()));
            }
            return new ModelManifest(version, entries);
        } catch (JsonProcessingException e) {
            throw new ModelVerificationException("invalid manifest " + source + ": " + e.getOriginalMessage());
        } catch (IllegalArgumentException e) {
            throw new ModelVerificationException("invalid manifest " + source + ": " + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse manifest " + source, e);
        }
    }

    public byte[] toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", version);
        ArrayNode array = root.putArray("files");
        for (Entry e : files) {
            array.addObject().put("path", e.path()).put("size", e.size()).put("sha256", e.sha256());
        }
        try {
            return JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise manifest", e);
        }
    }

    /**
     * Checks every listed file under {@code dir} by size and SHA-256. {@code sourceBase} (for example
     * {@code s3://bucket/models/x/}) prefixes the file path in error messages so they name the original object.
     */
    public void verify(Path dir, String sourceBase) {
        for (Entry e : files) {
            Path file = dir.resolve(e.path());
            checkInside(dir, file, sourceBase + e.path());
            verifyFile(e, file, sourceBase + e.path());
        }
    }

    /**
     * A listed file must be a plain file inside the directory: a symbolic link (to the file itself or to a folder
     * above it) could make a model's "content" any file on the machine, so it is refused by name.
     */
    static void checkInside(Path dir, Path file, String description) {
        if (Files.isSymbolicLink(file)) {
            throw new ModelVerificationException("refusing " + description + ": it is a symbolic link; a model's files "
                    + "must be plain files inside its directory");
        }
        try {
            if (Files.exists(file) && !file.toRealPath().startsWith(dir.toRealPath())) {
                throw new ModelVerificationException("refusing " + description + ": it resolves to " + file.toRealPath()
                        + ", outside " + dir.toRealPath() + " (through a symbolic link)");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resolve " + file, e);
        }
    }

    /** Checks one file against its entry; {@code description} names it in the error message. */
    public static void verifyFile(Entry entry, Path file, String description) {
        if (!Files.isRegularFile(file)) {
            throw new ModelVerificationException("missing file " + description + " listed in the manifest");
        }
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stat " + file, e);
        }
        checkSize(entry, size, description);
        checkSha256(entry, sha256(file), description);
    }

    static void checkSize(Entry entry, long actual, String description) {
        if (actual != entry.size()) {
            throw new ModelVerificationException("size mismatch for " + description + ": expected " + entry.size()
                    + " bytes got " + actual + " bytes");
        }
    }

    static void checkSha256(Entry entry, String actual, String description) {
        if (!actual.equals(entry.sha256())) {
            throw new ModelVerificationException("checksum mismatch for " + description + ": expected sha256 "
                    + entry.sha256() + " got " + actual);
        }
    }

    /** Lower-case hex SHA-256 of a file's content. */
    public static String sha256(Path file) {
        MessageDigest digest = newSha256();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    static String relativePath(Path dir, Path file) {
        List<String> parts = new ArrayList<>();
        dir.relativize(file).forEach(p -> parts.add(p.toString()));
        return String.join("/", parts);
    }

    static void checkRelativePath(String path) {
        if (path == null || path.isEmpty() || path.startsWith("/") || path.contains("\\")) {
            throw new IllegalArgumentException("manifest path must be relative with / separators, got " + path);
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw new IllegalArgumentException("manifest path has an empty, . or .. segment: " + path);
            }
        }
    }
}
