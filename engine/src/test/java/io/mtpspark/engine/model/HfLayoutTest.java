package io.mtpspark.engine.model;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.kvcache.KvCache;
import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.safetensors.SafetensorsFile;
import io.mtpspark.engine.safetensors.SafetensorsWriter;
import io.mtpspark.engine.tensor.ScalarBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hugging Face layout: RoPE convention, GQA/bias/untied/llama3-scaling round trips, sharding, F16. */
class HfLayoutTest {

    /**
     * Independent of our conversion code: HF applies RoPE as {@code q*cos + rotate_half(q)*sin} on the HF-layout
     * rows. The engine's permuted rows with adjacent-pair rotation must give the same q·k for every head pair.
     */
    @Test
    void permutedPairRopeEqualsHfRotateHalf() {
        int heads = 2;
        int hd = 8;
        int dim = 16;
        SplittableRandom rng = new SplittableRandom(7);
        float[] wqHf = random(rng, heads * hd * dim);
        float[] wkHf = random(rng, heads * hd * dim);
        float[] x1 = random(rng, dim);
        float[] x2 = random(rng, dim);
        int p1 = 5;
        int p2 = 11;
        double theta = 10000;
        float[] qHf = hfRope(matvec(wqHf, x1, heads * hd, dim), heads, hd, p1, theta);
        float[] kHf = hfRope(matvec(wkHf, x2, heads * hd, dim), heads, hd, p2, theta);
        float[] qE = pairRope(matvec(RopeLayout.halvesToPairs(wqHf, heads, hd, dim), x1, heads * hd, dim), heads, hd,
                p1, theta);
        float[] kE = pairRope(matvec(RopeLayout.halvesToPairs(wkHf, heads, hd, dim), x2, heads * hd, dim), heads, hd,
                p2, theta);
        for (int h = 0; h < heads; h++) {
            double a = 0;
            double b = 0;
            for (int i = 0; i < hd; i++) {
                a += qHf[h * hd + i] * kHf[h * hd + i];
                b += qE[h * hd + i] * kE[h * hd + i];
            }
            assertEquals(a, b, 1e-4, "head " + h);
        }
        assertArrayEquals(wqHf, RopeLayout.pairsToHalves(RopeLayout.halvesToPairs(wqHf, heads, hd, dim), heads, hd,
                dim));
    }

    @Test
    void randomGqaBiasUntiedScaledModelRoundTrips(@TempDir Path dir) throws Exception {
        LlamaConfig base = RandomModel.tinyConfig(64, true);
        LlamaConfig c = new LlamaConfig(base.architecture(), base.dim(), base.hiddenDim(), base.nLayers(),
                base.nHeads(), base.nKvHeads(), base.vocabSize(), base.seqLen(), base.headDim(), 500000.0, 1e-5f,
                new RopeScaling(8.0, 1.0, 4.0, 64), true, false, 1, 2, false);
        LlamaModel m = RandomModel.create(c, 3);
        HfModelWriter.write(m, dir, DType.F32);
        LlamaModel back = ModelLoader.load(dir);
        assertEquals(c, back.config());
        assertArrayEquals(logits(m), logits(back));
    }

    @Test
    void shardedIndexAndF16Load(@TempDir Path dir) throws Exception {
        LlamaModel m = RandomModel.create(RandomModel.tinyConfig(64, false), 4);
        Path single = dir.resolve("single");
        HfModelWriter.write(m, single, DType.F16);
        // split the tensors over two shards with an index, as large checkpoints are published
        Path sharded = dir.resolve("sharded");
        Files.createDirectories(sharded);
        Files.copy(single.resolve("config.json"), sharded.resolve("config.json"));
        StringBuilder index = new StringBuilder("{\"metadata\":{},\"weight_map\":{");
        SafetensorsWriter a = new SafetensorsWriter();
        SafetensorsWriter b = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(single.resolve("model.safetensors"))) {
            int i = 0;
            for (var e : f.tensors().entrySet()) {
                boolean first = i++ % 2 == 0;
                (first ? a : b).add(e.getKey(), e.getValue().shape(), f.readFloats(e.getKey()), DType.F16);
                index.append(i > 1 ? "," : "").append('"').append(e.getKey()).append("\":\"")
                        .append(first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors")
                        .append('"');
            }
        }
        a.write(sharded.resolve("model-00001-of-00002.safetensors"));
        b.write(sharded.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(sharded.resolve("model.safetensors.index.json"), index.append("}}").toString());
        LlamaModel fromSingle = ModelLoader.load(single);
        LlamaModel fromShards = ModelLoader.load(sharded);
        assertArrayEquals(logits(fromSingle), logits(fromShards));
        float[] orig = m.weights().layers()[1].wq().toFloatArray();
        float[] half = fromSingle.weights().layers()[1].wq().toFloatArray();
        for (int i = 0; i < orig.length; i++) {
            assertEquals(orig[i], half[i], Math.abs(orig[i]) / 1000f + 1e-4f);
        }
    }

    @Test
    void unknownArchitectureAndDtypeAreNamed(@TempDir Path dir) throws Exception {
        LlamaModel m = RandomModel.create(RandomModel.tinyConfig(64, false), 5);
        HfModelWriter.write(m, dir, DType.F32);
        Path cfg = dir.resolve("config.json");
        String good = Files.readString(cfg);
        Files.writeString(cfg, good.replace("LlamaForCausalLM", "GPTNeoXForCausalLM"));
        EngineException e = assertThrows(EngineException.class, () -> ModelLoader.load(dir));
        assertTrue(e.getMessage().contains("unknown architecture GPTNeoXForCausalLM"), e.getMessage());
        Files.writeString(cfg, good);
        Path st = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(st);
        String s = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).replaceFirst("\"F32\"", "\"I8\" ");
        Files.write(st, s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        e = assertThrows(EngineException.class, () -> ModelLoader.load(dir));
        assertTrue(e.getMessage().contains("unsupported dtype I8") && e.getMessage().contains("model.safetensors"),
                e.getMessage());
    }

    @Test
    void truncatedSafetensorsIsNamed(@TempDir Path dir) throws Exception {
        LlamaModel m = RandomModel.create(RandomModel.tinyConfig(64, false), 6);
        HfModelWriter.write(m, dir, DType.F32);
        Path st = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(st);
        Files.write(st, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        EngineException e = assertThrows(EngineException.class, () -> ModelLoader.load(dir));
        assertTrue(e.getMessage().startsWith(st.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    }

    private static float[] logits(LlamaModel m) {
        LlamaForward f = new LlamaForward(m, new ScalarBackend(), 8, 64);
        KvCache cache = new KvCache(m.config(), 64);
        int[] toks = {1, 5, 9, 33, 2, 17};
        f.forward(toks, new int[]{0, 1, 2, 3, 4, 5}, 6, AttentionMask.CAUSAL, cache, new int[]{5}, 1);
        return java.util.Arrays.copyOf(f.logits(), m.config().vocabSize());
    }

    private static float[] random(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        return v;
    }

    private static float[] matvec(float[] w, float[] x, int rows, int cols) {
        float[] out = new float[rows];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[r] += w[r * cols + c] * x[c];
            }
        }
        return out;
    }

    private static float[] hfRope(float[] v, int heads, int hd, int pos, double theta) {
        float[] out = new float[v.length];
        int half = hd / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < hd; i++) {
                int m = i % half;
                double ang = pos / Math.pow(theta, 2.0 * m / hd);
                double rot = i < half ? -v[h * hd + i + half] : v[h * hd + i - half];
                out[h * hd + i] = (float) (v[h * hd + i] * Math.cos(ang) + rot * Math.sin(ang));
            }
        }
        return out;
    }

    private static float[] pairRope(float[] v, int heads, int hd, int pos, double theta) {
        float[] out = v.clone();
        for (int h = 0; h < heads; h++) {
            for (int m = 0; m < hd / 2; m++) {
                double ang = pos / Math.pow(theta, 2.0 * m / hd);
                float a = v[h * hd + 2 * m];
                float b = v[h * hd + 2 * m + 1];
                out[h * hd + 2 * m] = (float) (a * Math.cos(ang) - b * Math.sin(ang));
                out[h * hd + 2 * m + 1] = (float) (a * Math.sin(ang) + b * Math.cos(ang));
            }
        }
        return out;
    }
}
