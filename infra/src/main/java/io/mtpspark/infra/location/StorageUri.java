package io.mtpspark.infra.location;

import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Classifies and converts the locations users pass around: {@code s3://} and {@code s3a://} URIs (S3),
 * {@code file:} URIs and plain paths (local). Plain strings are parsed leniently so that a path with spaces or
 * without a scheme works where a URI is expected.
 */
public final class StorageUri {
    private static final Pattern HAS_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]+:.*");

    private StorageUri() {
    }

    /** {@code s3://b/k} stays a URI; {@code /data/m}, {@code models/m} and {@code file:/data/m} become file URIs. */
    public static URI parse(String location) {
        String trimmed = location.trim();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("empty location");
        }
        if (HAS_SCHEME.matcher(trimmed).matches()) {
            return URI.create(trimmed);
        }
        return Path.of(trimmed).toAbsolutePath().normalize().toUri();
    }

    public static boolean isS3(URI uri) {
        String scheme = scheme(uri);
        return scheme.equals("s3") || scheme.equals("s3a");
    }

    public static boolean isLocal(URI uri) {
        String scheme = scheme(uri);
        return scheme.isEmpty() || scheme.equals("file");
    }

    /** Lower-case scheme, or the empty string for a scheme-less (relative or absolute path) URI. */
    public static String scheme(URI uri) {
        return uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    }

    /** The local path for a {@code file:} or scheme-less URI. */
    public static Path localPath(URI uri) {
        if (!isLocal(uri)) {
            throw new IllegalArgumentException("not a local location: " + uri);
        }
        return uri.getScheme() == null ? Path.of(uri.getPath()) : Path.of(uri);
    }
}
