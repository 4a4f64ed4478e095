package io.mtpspark.infra.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mtpspark.infra.testing.ModelFixture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalModelStoreTest {
    @TempDir
    Path scratch;

    private final LocalModelStore strict = new LocalModelStore(new ModelStoreOptions(Path.of("unused"), false));

    @Test
    void manifestRoundTripsAndListsFilesSorted() throws IOException {
        Path model = ModelFixture.copyModel(scratch.resolve("m"));
        Files.createDirectories(model.resolve("adapters"));
        Files.writeString(model.resolve("adapters/a.bin"), "abc");

        ModelManifest written = ModelManifest.write(model);

        assertEquals(List.of("adapters/a.bin", ModelFixture.WEIGHTS, ModelFixture.TOKENIZER),
                written.files().stream().map(ModelManifest.Entry::path).toList());
        assertEquals(written, ModelManifest.read(model.resolve(ModelManifest.FILE_NAME)));
        // FIPS 180-2 test vector: SHA-256("abc").
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                written.entry("adapters/a.bin").orElseThrow().sha256());
        assertEquals(3, written.entry("adapters/a.bin").orElseThrow().size());
        String json = new String(written.toJson(), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"version\" : 1") && json.contains("\"path\" : \"stories260K.bin\"")
                && json.contains("\"size\" : 1056540"), json);
    }

    @Test
    void directoryAndFileResolveAfterVerification() throws IOException {
        Path model = ModelFixture.copyModel(scratch.resolve("m"));
        ModelManifest.write(model);

        assertEquals(model.toAbsolutePath(), strict.resolve(model.toString()));
        assertEquals(model.toAbsolutePath(), strict.resolve(model.toUri()));
        assertEquals(model.resolve(ModelFixture.TOKENIZER), strict.resolve(model.resolve(ModelFixture.TOKENIZER).toUri()));
    }

    @Test
    void tamperedFileIsReported() throws IOException {
        Path model = ModelFixture.copyModel(scratch.resolve("m"));
        ModelManifest manifest = ModelManifest.write(model);
        Path tok = model.resolve(ModelFixture.TOKENIZER);
        byte[] bytes = Files.readAllBytes(tok);
        bytes[0] ^= 1;
        Files.write(tok, bytes);

        ModelVerificationException e = assertThrows(ModelVerificationException.class, () -> strict.resolve(model.toUri()));

        assertEquals("checksum mismatch for " + tok + ": expected sha256 "
                + manifest.entry(ModelFixture.TOKENIZER).orElseThrow().sha256() + " got " + ModelManifest.sha256(tok),
                e.getMessage());
    }

    @Test
    void missingManifestNeedsExplicitPermission() throws IOException {
        Path model = ModelFixture.copyModel(scratch.resolve("m"));

        ModelVerificationException e = assertThrows(ModelVerificationException.class, () -> strict.resolve(model.toUri()));
        assertTrue(e.getMessage().startsWith("no manifest for " + model), e.getMessage());

        LocalModelStore lenient = new LocalModelStore(new ModelStoreOptions(Path.of("unused"), true));
        assertEquals(model, lenient.resolve(model.toUri()));
    }

    @Test
    void missingPathAndBadManifestAreClearErrors() throws IOException {
        ModelStoreException missing = assertThrows(ModelStoreException.class,
                () -> strict.resolve(scratch.resolve("nope").toString()));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());

        Path dir = Files.createDirectories(scratch.resolve("bad"));
        Files.writeString(dir.resolve(ModelManifest.FILE_NAME), "{\"files\": [{\"path\": \"/etc/passwd\", \"size\": 1, "
                + "\"sha256\": \"" + "a".repeat(64) + "\"}]}");
        ModelVerificationException bad = assertThrows(ModelVerificationException.class, () -> strict.resolve(dir.toUri()));
        assertTrue(bad.getMessage().contains("must be relative"), bad.getMessage());
    }

    /** Issue 17: manifests that point outside their directory, by path or through a symbolic link, are refused. */
    @Test
    void manifestsEscapingTheirDirectoryAreRefusedByName() throws IOException {
        String sha = "\"" + "a".repeat(64) + "\"";
        for (String path : List.of("../x.bin", "a/../../x.bin", "./x.bin", "a//b", "C:\\\\x")) {
            Path dir = Files.createDirectories(scratch.resolve("esc" + Math.abs(path.hashCode())));
            Files.writeString(dir.resolve(ModelManifest.FILE_NAME), "{\"files\": [{\"path\": \"" + path
                    + "\", \"size\": 1, \"sha256\": " + sha + "}]}");
            ModelVerificationException e = assertThrows(ModelVerificationException.class,
                    () -> strict.resolve(dir.toUri()), path);
            assertTrue(e.getMessage().contains("invalid manifest"), e.getMessage());
        }
        Path outside = ModelFixture.copyModel(scratch.resolve("outside"));
        Path linked = ModelFixture.copyModel(scratch.resolve("linked"));
        Files.delete(linked.resolve(ModelFixture.WEIGHTS));
        Files.createSymbolicLink(linked.resolve(ModelFixture.WEIGHTS), outside.resolve(ModelFixture.WEIGHTS));
        ModelManifest.write(linked); // the manifest lists the link's target content, so only the link check stops it
        ModelVerificationException file = assertThrows(ModelVerificationException.class, () -> strict.resolve(linked.toUri()));
        assertTrue(file.getMessage().contains("is a symbolic link"), file.getMessage());

        Path viaDir = Files.createDirectories(scratch.resolve("viadir"));
        Files.createSymbolicLink(viaDir.resolve("sub"), outside);
        Files.writeString(viaDir.resolve(ModelManifest.FILE_NAME), new String(
                new ModelManifest(1, List.of(new ModelManifest.Entry("sub/" + ModelFixture.WEIGHTS,
                        Files.size(outside.resolve(ModelFixture.WEIGHTS)),
                        ModelManifest.sha256(outside.resolve(ModelFixture.WEIGHTS))))).toJson(), StandardCharsets.UTF_8));
        ModelVerificationException dir = assertThrows(ModelVerificationException.class, () -> strict.resolve(viaDir.toUri()));
        assertTrue(dir.getMessage().contains("outside"), dir.getMessage());
    }
}
