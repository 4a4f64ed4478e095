package io.mtpspark.infra.s3;

import io.mtpspark.infra.location.StorageUri;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Objects;

/**
 * A bucket and key parsed from an {@code s3://} or {@code s3a://} URI. The key has no leading slash; an empty key
 * means the bucket root. The original scheme is kept so messages show the URI the user wrote.
 */
public record S3Location(String scheme, String bucket, String key) {
    public S3Location {
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(key, "key");
        if (bucket == null || bucket.isBlank()) {
            throw new IllegalArgumentException("S3 location has no bucket");
        }
    }

    public static S3Location parse(URI uri) {
        if (!StorageUri.isS3(uri)) {
            throw new IllegalArgumentException("not an s3:// or s3a:// URI: " + uri);
        }
        // getAuthority, not getHost: bucket names with underscores or dots-plus-digits are not valid host names.
        String bucket = uri.getAuthority();
        if (bucket == null || bucket.isBlank()) {
            throw new IllegalArgumentException("S3 URI has no bucket: " + uri);
        }
        String path = uri.getPath() == null ? "" : uri.getPath();
        String key = path.startsWith("/") ? path.substring(1) : path;
        return new S3Location(StorageUri.scheme(uri), bucket, key);
    }

    /** The key as a "directory" prefix: empty for the bucket root, otherwise ending with {@code /}. */
    public String prefix() {
        return key.isEmpty() || key.endsWith("/") ? key : key + "/";
    }

    /** Last path segment of the key (ignoring a trailing slash), or the bucket name for the root. */
    public String name() {
        String k = key.endsWith("/") ? key.substring(0, key.length() - 1) : key;
        int slash = k.lastIndexOf('/');
        return k.isEmpty() ? bucket : k.substring(slash + 1);
    }

    /** The enclosing prefix (ending with {@code /}, or empty at the root). */
    public S3Location parent() {
        String k = key.endsWith("/") ? key.substring(0, key.length() - 1) : key;
        int slash = k.lastIndexOf('/');
        return new S3Location(scheme, bucket, slash < 0 ? "" : k.substring(0, slash + 1));
    }

    /** A key below this location, treating it as a directory. */
    public S3Location child(String relative) {
        return new S3Location(scheme, bucket, prefix() + relative);
    }

    public S3Location withKey(String newKey) {
        return new S3Location(scheme, bucket, newKey);
    }

    public URI toUri() {
        try {
            return new URI(scheme, bucket, "/" + key, null);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("cannot form a URI for bucket " + bucket + " key " + key, e);
        }
    }

    @Override
    public String toString() {
        return scheme + "://" + bucket + "/" + key;
    }
}
