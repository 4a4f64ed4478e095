package io.mtpspark.infra.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/**
 * What a model, tokenizer or adapter location holds, named by content: {@code digest} is the SHA-256 over the
 * (path, size, SHA-256) of each of its files as its {@code manifest.json} lists them, paths relative to the
 * location ({@code ""} for a location that is one file). The same content therefore has the same digest however
 * its location is spelled (absolute or relative path, {@code s3://} or {@code s3a://}, a copy elsewhere), and
 * replacing the weights at the same location gives a new one. {@code verified} is false for a location without a
 * manifest used with {@code --allow-unverified-models}: its digest then comes from the bytes (local files) or from
 * the objects' ETags (S3), which executors cannot reproduce from the download, so it is not cross-checked.
 */
public record ContentIdentity(String digest, boolean verified, int files, long bytes) {
    /** Length of the hex digest kept: 128 bits, plenty to tell contents apart, short enough to read in a row. */
    static final int HEX_LENGTH = 32;

    static ContentIdentity of(List<ModelManifest.Entry> entries, String relativeTo, boolean verified) {
        MessageDigest md = ModelManifest.newSha256();
        long bytes = 0;
        for (ModelManifest.Entry e : entries) {
            String rel = relativeTo == null ? e.path() : e.path().equals(relativeTo) ? "" : e.path();
            md.update((rel + "\n" + e.size() + "\n" + e.sha256() + "\n").getBytes(StandardCharsets.UTF_8));
            bytes += e.size();
        }
        return new ContentIdentity("sha256:" + HexFormat.of().formatHex(md.digest()).substring(0, HEX_LENGTH),
                verified, entries.size(), bytes);
    }

    /** For unverified S3 content: listing lines (key, size, ETag) stand in for the files' hashes. */
    static ContentIdentity ofListing(List<String> lines, long bytes) {
        MessageDigest md = ModelManifest.newSha256();
        lines.forEach(l -> md.update((l + "\n").getBytes(StandardCharsets.UTF_8)));
        return new ContentIdentity("etags:" + HexFormat.of().formatHex(md.digest()).substring(0, HEX_LENGTH),
                false, lines.size(), bytes);
    }
}
