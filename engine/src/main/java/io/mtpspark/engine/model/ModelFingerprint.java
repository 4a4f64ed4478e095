package io.mtpspark.engine.model;

import io.mtpspark.engine.tensor.WeightTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A stable identity for a base model's weights, so adapters trained on one model are refused on another. It hashes
 * the shape fields of the configuration (not the architecture name: a llama2.c checkpoint and its HF conversion are
 * the same model) and a content sample of every tensor in engine layout: its length plus up to 4,096 evenly spaced
 * elements. Sampling keeps it cheap for multi-GB models while any re-trained or different model changes it.
 */
public final class ModelFingerprint {
    private static final int SAMPLES_PER_TENSOR = 4096;

    private ModelFingerprint() {
    }

    public static String of(LlamaModel model) {
        LlamaConfig c = model.config();
        MessageDigest md = sha256();
        md.update(String.format("dim=%d hidden=%d layers=%d heads=%d kv=%d vocab=%d head_dim=%d tied=%b bias=%b",
                c.dim(), c.hiddenDim(), c.nLayers(), c.nHeads(), c.nKvHeads(), c.vocabSize(), c.headDim(),
                c.tiedEmbeddings(), c.qkvBias()).getBytes(StandardCharsets.UTF_8));
        LlamaWeights w = model.weights();
        sample(md, w.tokenEmbedding());
        for (LayerWeights l : w.layers()) {
            sample(md, l.attnNorm());
            for (WeightTensor t : new WeightTensor[]{l.wq(), l.wk(), l.wv(), l.wo()}) {
                sample(md, t);
            }
            for (float[] t : new float[][]{l.bq(), l.bk(), l.bv(), l.ffnNorm()}) {
                sample(md, t);
            }
            for (WeightTensor t : new WeightTensor[]{l.wGate(), l.wDown(), l.wUp()}) {
                sample(md, t);
            }
        }
        sample(md, w.finalNorm());
        sample(md, w.classifier());
        return "sha256:" + HexFormat.of().formatHex(md.digest()).substring(0, 32);
    }

    private static void sample(MessageDigest md, float[] t) {
        if (t == null) {
            md.update((byte) 0);
            return;
        }
        sample(md, WeightTensor.ofFloats(t, 1, t.length));
    }

    /** The elements' values widened to float, so a model hashes the same in whatever dtype it was loaded. */
    private static void sample(MessageDigest md, WeightTensor t) {
        long len = t.elements();
        int n = (int) Math.min(len, SAMPLES_PER_TENSOR);
        ByteBuffer b = ByteBuffer.allocate(8 + 4 * n).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(len);
        for (int i = 0; i < n; i++) {
            b.putFloat(t.at(i * len / n));
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
