package io.mtpspark.engine.model;

import io.mtpspark.engine.tensor.WeightTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Stable identities for a base model's weights. Both hash the shape fields of the configuration (not the
 * architecture name: a llama2.c checkpoint and its HF conversion are the same model) and a content sample of every
 * tensor in engine layout: its length plus up to 4,096 evenly spaced elements, which keeps them cheap for multi-GB
 * models. {@link #of} hashes the sampled values exactly, so any change of the weights, a dtype conversion included,
 * changes it (run records use it). {@link #dtypeIndependent} hashes only the samples' sign bits, which rounding to
 * BF16 or F16 never changes while a re-trained or different model flips many of them: adapters match on it, so an
 * adapter follows its model through {@code convert --dtype}.
 */
public final class ModelFingerprint {
    private static final int SAMPLES_PER_TENSOR = 4096;
    /** Prefix of {@link #dtypeIndependent} fingerprints; {@link #of} ones start with {@code sha256:}. */
    public static final String SIGN_PREFIX = "sign-sha256:";

    private ModelFingerprint() {
    }

    /** The exact-weights fingerprint {@code sha256:…}. */
    public static String of(LlamaModel model) {
        return "sha256:" + digest(model, false);
    }

    /** The fingerprint {@code sign-sha256:…} that a dtype conversion of the same weights keeps. */
    public static String dtypeIndependent(LlamaModel model) {
        return SIGN_PREFIX + digest(model, true);
    }

    /** Whether {@code fingerprint}, of either kind, is {@code model}'s. */
    public static boolean matches(String fingerprint, LlamaModel model) {
        return fingerprint.equals(fingerprint.startsWith(SIGN_PREFIX) ? dtypeIndependent(model) : of(model));
    }

    private static String digest(LlamaModel model, boolean signsOnly) {
        LlamaConfig c = model.config();
        MessageDigest md = sha256();
        md.update(String.format("dim=%d hidden=%d layers=%d heads=%d kv=%d vocab=%d head_dim=%d tied=%b bias=%b",
                c.dim(), c.hiddenDim(), c.nLayers(), c.nHeads(), c.nKvHeads(), c.vocabSize(), c.headDim(),
                c.tiedEmbeddings(), c.qkvBias()).getBytes(StandardCharsets.UTF_8));
        LlamaWeights w = model.weights();
        sample(md, w.tokenEmbedding(), signsOnly);
        for (LayerWeights l : w.layers()) {
            sample(md, l.attnNorm(), signsOnly);
            for (WeightTensor t : new WeightTensor[]{l.wq(), l.wk(), l.wv(), l.wo()}) {
                sample(md, t, signsOnly);
            }
            for (float[] t : new float[][]{l.bq(), l.bk(), l.bv(), l.ffnNorm()}) {
                sample(md, t, signsOnly);
            }
            for (WeightTensor t : new WeightTensor[]{l.wGate(), l.wDown(), l.wUp()}) {
                sample(md, t, signsOnly);
            }
        }
        sample(md, w.finalNorm(), signsOnly);
        sample(md, w.classifier(), signsOnly);
        return HexFormat.of().formatHex(md.digest()).substring(0, 32);
    }

    private static void sample(MessageDigest md, float[] t, boolean signsOnly) {
        if (t == null) {
            md.update((byte) 0);
            return;
        }
        sample(md, WeightTensor.ofFloats(t, 1, t.length), signsOnly);
    }

    /** The elements' values widened to float, so a model hashes the same in whatever dtype it was loaded. */
    private static void sample(MessageDigest md, WeightTensor t, boolean signsOnly) {
        if (t == null) {
            md.update((byte) 0);
            return;
        }
        long len = t.elements();
        int n = (int) Math.min(len, SAMPLES_PER_TENSOR);
        ByteBuffer b = ByteBuffer.allocate(8 + (signsOnly ? (n + 7) / 8 : 4 * n)).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(len);
        int bits = 0;
        for (int i = 0; i < n; i++) {
            float v = t.at(i * len / n);
            if (!signsOnly) {
                b.putFloat(v);
                continue;
            }
            // the raw sign bit: round-to-nearest keeps it, also where a tiny value underflows to -0
            bits |= (Float.floatToRawIntBits(v) >>> 31) << (i & 7);
            if ((i & 7) == 7 || i == n - 1) {
                b.put((byte) bits);
                bits = 0;
            }
        }
        md.update(b.array());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
