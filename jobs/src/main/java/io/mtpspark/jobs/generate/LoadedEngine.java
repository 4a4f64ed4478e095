package io.mtpspark.jobs.generate;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.session.ModelBundle;
import io.mtpspark.infra.store.ContentIdentity;
import io.mtpspark.infra.store.LocalModelStore;
import io.mtpspark.infra.store.ModelStore;
import io.mtpspark.infra.store.ModelVerificationException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The read-only engine state of one executor JVM: model and tokenizer, the optional MTP adapter, and their
 * fingerprints. Locations are resolved through the infra {@link ModelStore}, so remote models are downloaded once
 * and verified against their manifest before the engine reads a byte of them. The fingerprints are the content
 * digests of what was resolved ({@link LocalModelStore#identifyResolved}, from the manifest's SHA-256s), and must be
 * the ones the driver put in the run's config hash: a model replaced at the same location while the job runs is
 * refused rather than mixed into the run.
 */
public record LoadedEngine(ModelBundle bundle, MtpAdapter adapter, String modelFingerprint,
                           String adapterFingerprint, String modelFile) {

    public static LoadedEngine load(ModelStore store, String model, Optional<String> tokenizer,
                                    Optional<String> adapter, boolean allowUnverified, ModelIdentities expected) {
        Path resolvedModel = store.resolve(model);
        String modelFingerprint = content("model", model, resolvedModel, allowUnverified, expected.model(), expected);
        Path modelFile = modelFile(resolvedModel);
        Path tokenizerFile = null;
        if (tokenizer.isPresent()) {
            tokenizerFile = store.resolve(tokenizer.get());
            content("tokenizer", tokenizer.get(), tokenizerFile, allowUnverified, expected.tokenizer(), expected);
        }
        ModelBundle bundle = ModelBundle.load(modelFile, tokenizerFile);
        MtpAdapter mtp = null;
        String adapterFingerprint = null;
        if (adapter.isPresent()) {
            Path resolvedAdapter = store.resolve(adapter.get());
            adapterFingerprint = content("adapter", adapter.get(), resolvedAdapter, allowUnverified, expected.adapter(),
                    expected);
            mtp = MtpAdapter.load(adapterFile(resolvedAdapter), bundle.model());
        }
        return new LoadedEngine(bundle, mtp, modelFingerprint, adapterFingerprint, modelFile.toString());
    }

    private static String content(String what, String location, Path resolved, boolean allowUnverified,
                                  String expectedDigest, ModelIdentities expected) {
        ContentIdentity found = LocalModelStore.identifyResolved(resolved, allowUnverified);
        if (expected.verified() && expectedDigest != null && !expectedDigest.equals(found.digest())) {
            throw new ModelVerificationException("the " + what + " at " + location + " changed while the job ran: the"
                    + " driver started the run with content " + expectedDigest + ", this executor has "
                    + found.digest() + "; rerun the job (a changed model is a new configuration)");
        }
        return found.digest();
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
}
