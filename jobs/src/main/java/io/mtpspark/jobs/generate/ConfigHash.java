package io.mtpspark.jobs.generate;

import io.mtpspark.jobs.cli.GenerateOptions;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Hash of everything that decides what a row's output is: the content of the model, tokenizer and adapter (their
 * manifests' SHA-256s, {@link ModelIdentities}), decoder, k, context and the default sampling settings. Resume
 * matches existing rows on (id, config hash), so changing any of these reruns the rows while a plain rerun skips
 * them. Content, not location: the same model named by an absolute or a relative path, or copied elsewhere, is the
 * same configuration, and new weights at the same path are a new one (issue 17). Per-row overrides in the input ({@code max_tokens}, {@code temperature}, {@code seed}) are not part of
 * it; a row's id names its settings. Nor is the batch size: a sequence decodes to the same tokens bit for bit
 * whatever it is batched with, so a run resumed with another batch size keeps the rows it already has.
 */
public final class ConfigHash {
    private ConfigHash() {
    }

    public static String of(GenerateOptions o, ModelIdentities content) {
        String canonical = String.join("\n",
                "model=" + content.model(),
                "tokenizer=" + (content.tokenizer() == null ? "" : content.tokenizer()),
                "adapter=" + (content.adapter() == null ? "" : content.adapter()),
                "decoder=" + o.decoder(),
                "k=" + o.effectiveK(),
                "context=" + o.context(),
                "max_tokens=" + o.maxTokens(),
                "temperature=" + o.temperature(),
                "top_k=" + o.topK(),
                "top_p=" + o.topP(),
                "seed=" + o.seed());
        if (o.chatSettings().any()) { // only then, so runs without chat options keep their hashes
            canonical += "\n" + o.chatSettings().canonical();
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
