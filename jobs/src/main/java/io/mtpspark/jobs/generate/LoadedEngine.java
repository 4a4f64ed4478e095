package io.mtpspark.jobs.generate;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.model.ModelFingerprint;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.session.ModelBundle;
import io.mtpspark.infra.store.ModelStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The read-only engine state of one executor JVM: model and tokenizer, the optional MTP adapter, and their
 * fingerprints. Locations are resolved through the infra {@link ModelStore}, so remote models are downloaded once
 * and verified against their manifest before the engine reads a byte of them.
 */
public record LoadedEngine(ModelBundle bundle, MtpAdapter adapter, String modelFingerprint,
                           String adapterFingerprint, String modelFile) {

    public static LoadedEngine load(ModelStore store, String model, Optional<String> tokenizer,
                                    Optional<String> adapter) {
        Path modelFile = modelFile(store.resolve(model));
        Path tokenizerFile = tokenizer.map(store::resolve).orElse(null);
        ModelBundle bundle = ModelBundle.load(modelFile, tokenizerFile);
        MtpAdapter mtp = null;
        String adapterFingerprint = null;
        if (adapter.isPresent()) {
            Path adapterFile = adapterFile(store.resolve(adapter.get()));
            mtp = MtpAdapter.load(adapterFile, bundle.model());
            adapterFingerprint = sha256(adapterFile);
        }
        return new LoadedEngine(bundle, mtp, ModelFingerprint.of(bundle.model()), adapterFingerprint,
                modelFile.toString());
    }

    /**
     * The file the engine loads for a resolved model location: a file as is, a Hugging Face directory as is, and
     * for any other directory its single llama2.c checkpoint (a {@code .bin} that is not a tokenizer), so a model
     * published as a directory with its tokenizer and manifest can be named by its directory.
     */
    public static Path modelFile(Path resolved) {
        if (!Files.isDirectory(resolved) || Files.isRegularFile(resolved.resolve("config.json"))) {
            return resolved;
        }
        List<Path> checkpoints = list(resolved, name -> name.endsWith(".bin") && !name.startsWith("tok")
                && !name.equals("tokenizer.bin"));
        if (checkpoints.size() != 1) {
            throw new EngineException(resolved, "expected a Hugging Face directory (config.json) or exactly one "
                    + "llama2.c .bin checkpoint besides the tokenizer, found " + checkpoints.size());
        }
        return checkpoints.get(0);
    }

    static Path adapterFile(Path resolved) {
        if (!Files.isDirectory(resolved)) {
            return resolved;
        }
        List<Path> files = list(resolved, name -> name.endsWith(".safetensors"));
        if (files.size() != 1) {
            throw new EngineException(resolved, "expected exactly one .safetensors adapter file, found " + files.size());
        }
        return files.get(0);
    }

    private static List<Path> list(Path dir, java.util.function.Predicate<String> nameFilter) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> nameFilter.test(p.getFileName().toString()))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    static String sha256(Path file) {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
