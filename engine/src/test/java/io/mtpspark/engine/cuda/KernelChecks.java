package io.mtpspark.engine.cuda;

import io.mtpspark.engine.kvcache.KvCache;
import io.mtpspark.engine.sampling.Sampler;
import io.mtpspark.engine.tensor.ScalarBackend;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-op kernels of {@link KernelSources} against a plain Java reference of the engine's semantics (embedding,
 * RoPE, block-masked attention, gated LoRA, sampling helpers, KV compaction, BF16 rounding); the device forward's
 * own kernels are checked end to end by the device tests on the emulator ({@code device.DeviceForwardTest}). Blocks of 64 threads (two
 * warps) exercise the cross-warp reductions. Subclasses say where the kernels run: {@link CudaKernelsTest} on the
 * GPU, {@link EmulatedKernelsTest} in the CPU emulator.
 */
abstract class KernelChecks {
    private static final float TOL = 1e-5f;
    private final SplittableRandom rng = new SplittableRandom(12);

    abstract KernelDevice dev();

    private float[] random(int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rng.nextDouble(-1, 1) * scale);
        }
        return a;
    }

    private static void assertClose(float[] expected, float[] actual, float tol, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            float err = Math.abs(expected[i] - actual[i]) / Math.max(1f, Math.abs(expected[i]));
            assertTrue(err <= tol, what + " at " + i + ": expected " + expected[i] + ", got " + actual[i]);
        }
    }

    @Test
    void embeddingTakesMaskRowsFromTheAdapterTable() {
        int vocab = 10;
        int dim = 70;
        float[] table = random(vocab * dim, 1);
        float[] masks = random(3 * dim, 1);
        int[] tokens = {4, 10, 0, 12, 9, 11};
        long x = dev().floats(new float[tokens.length * dim]);
        dev().args().ptr(x).ptr(dev().ints(tokens)).i32(tokens.length).ptr(dev().floats(table)).ptr(dev().floats(masks))
                .i32(vocab).i32(dim);
        dev().launch("embed_rows", tokens.length, 1, 64);
        float[] expected = new float[tokens.length * dim];
        for (int r = 0; r < tokens.length; r++) {
            int t = tokens[r];
            System.arraycopy(t < vocab ? table : masks, (t < vocab ? t : t - vocab) * dim, expected, r * dim, dim);
        }
        assertArrayEquals(expected, dev().readFloats(x, expected.length));
    }

    @Test
    void gatherCopiesIndexedRows() {
        int dim = 33;
        float[] src = random(6 * dim, 1);
        int[] index = {5, 0, 3};
        long dst = dev().floats(new float[index.length * dim]);
        dev().args().ptr(dst).ptr(dev().floats(src)).ptr(dev().ints(index)).i32(index.length).i32(dim);
        dev().launch("gather_rows", index.length, 1, 64);
        float[] expected = new float[index.length * dim];
        for (int j = 0; j < index.length; j++) {
            System.arraycopy(src, index[j] * dim, expected, j * dim, dim);
        }
        assertArrayEquals(expected, dev().readFloats(dst, expected.length));
    }

    @Test
    void rmsnormRowsMatchTheOracle() {
        int rows = 5;
        int dim = 300;
        float[] x = random(rows * dim, 3);
        float[] w = random(dim, 1);
        long dx = dev().floats(x);
        dev().args().ptr(dx).ptr(dx).ptr(dev().floats(w)).i32(rows).i32(dim).f32(1e-5f); // in place, as allowed
        dev().launch("rmsnorm_rows", rows, 1, 64);
        float[] expected = new float[rows * dim];
        for (int r = 0; r < rows; r++) {
            new ScalarBackend().rmsnorm(expected, r * dim, x, r * dim, w, dim, 1e-5f);
        }
        assertClose(expected, dev().readFloats(dx, expected.length), TOL, "rmsnorm");
    }

    @Test
    void ropeRotatesAdjacentPairsAtEachRowsPosition() {
        int rows = 4;
        int heads = 3;
        int hd = 8;
        int half = hd / 2;
        int stride = heads * hd + 5; // rows may sit in a wider buffer
        int positions = 20;
        float[] cos = new float[positions * half];
        float[] sin = new float[positions * half];
        for (int p = 0; p < positions; p++) {
            for (int m = 0; m < half; m++) {
                double a = p * Math.pow(10000, -2.0 * m / hd);
                cos[p * half + m] = (float) Math.cos(a);
                sin[p * half + m] = (float) Math.sin(a);
            }
        }
        int[] pos = {7, 0, 19, 7};
        float[] v = random(rows * stride, 1);
        long dv = dev().floats(v);
        dev().args().ptr(dv).ptr(dev().ints(pos)).i32(rows).i32(heads).i32(hd).i32(stride).ptr(dev().floats(cos))
                .ptr(dev().floats(sin));
        dev().launch("rope_rows", rows, 1, 64);
        float[] expected = v.clone();
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < heads; h++) {
                for (int m = 0; m < half; m++) {
                    int i = r * stride + h * hd + 2 * m;
                    float c = cos[pos[r] * half + m];
                    float s = sin[pos[r] * half + m];
                    expected[i] = v[i] * c - v[i + 1] * s;
                    expected[i + 1] = v[i] * s + v[i + 1] * c;
                }
            }
        }
        assertClose(expected, dev().readFloats(dv, expected.length), TOL, "rope (padding untouched too)");
    }

    /** The engine's attention semantics, as in LlamaForward: cache fully visible, block columns per local mask. */
    private static float[] attentionReference(float[] q, float[] kc, float[] vc, boolean[] local, int n, int cacheLen,
                                              int heads, int kvHeads, int hd) {
        int qDim = heads * hd;
        int kvDim = kvHeads * hd;
        int cols = cacheLen + n;
        float[] out = new float[n * qDim];
        for (int h = 0; h < heads; h++) {
            int kvOff = (h / (heads / kvHeads)) * hd;
            for (int i = 0; i < n; i++) {
                double[] s = new double[cols];
                double max = Double.NEGATIVE_INFINITY;
                for (int t = 0; t < cols; t++) {
                    if (t < cacheLen || local[i * n + t - cacheLen]) {
                        double d = 0;
                        for (int e = 0; e < hd; e++) {
                            d += q[i * qDim + h * hd + e] * kc[t * kvDim + kvOff + e];
                        }
                        s[t] = d / Math.sqrt(hd);
                        max = Math.max(max, s[t]);
                    } else {
                        s[t] = Double.NEGATIVE_INFINITY;
                    }
                }
                double sum = 0;
                for (int t = 0; t < cols; t++) {
                    s[t] = s[t] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(s[t] - max);
                    sum += s[t];
                }
                for (int e = 0; e < hd; e++) {
                    double acc = 0;
                    for (int t = 0; t < cols; t++) {
                        acc += s[t] * vc[t * kvDim + kvOff + e];
                    }
                    out[i * qDim + h * hd + e] = sum > 0 ? (float) (acc / sum) : 0f;
                }
            }
        }
        return out;
    }

    private void checkAttention(int n, int cacheLen, boolean[] local, String what) {
        int heads = 6;
        int kvHeads = 2;
        int hd = 16;
        int capacity = cacheLen + n + 3;
        float[] q = random(n * heads * hd, 1);
        float[] kc = random(capacity * kvHeads * hd, 1);
        float[] vc = random(capacity * kvHeads * hd, 1);
        long out = dev().floats(new float[n * heads * hd]);
        long scores = dev().floats(new float[n * heads * (cacheLen + n)]);
        dev().args().ptr(out).ptr(dev().floats(q)).ptr(dev().floats(kc)).ptr(dev().floats(vc)).ptr(dev().bytes(local))
                .ptr(scores).i32(n).i32(cacheLen).i32(heads).i32(kvHeads).i32(hd).f32((float) (1 / Math.sqrt(hd)));
        dev().launch("attention_block", heads, n, 64);
        assertClose(attentionReference(q, kc, vc, local, n, cacheLen, heads, kvHeads, hd),
                dev().readFloats(out, n * heads * hd), 1e-4f, what);
    }

    @Test
    void attentionHonoursTheBlockMaskWithGqa() {
        int n = 5;
        boolean[] causal = new boolean[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                causal[i * n + j] = true;
            }
        }
        checkAttention(n, 0, causal, "causal prefill");
        checkAttention(n, 70, causal, "causal block after 70 cached rows (more columns than threads)");
        boolean[] mtp = new boolean[n * n]; // rows 0-1 real (causal), 2-4 mask rows seeing real rows and themselves
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                mtp[i * n + j] = i < 2 ? j <= i : j < 2 || j == i;
            }
        }
        checkAttention(n, 9, mtp, "MTP pattern");
        checkAttention(n, 0, new boolean[n * n], "nothing visible gives zeros, not NaN");
    }

    @Test
    void elementwiseKernelsMatchTheOracle() {
        int n = 3000;
        float[] h = random(n, 6);
        float[] g = random(n, 1);
        long dh = dev().floats(h);
        dev().args().ptr(dh).ptr(dev().floats(g)).i32(n);
        dev().launch("silu_mul", 4, 1, 256); // fewer threads than values: the grid-stride loop must cover the rest
        float[] expected = h.clone();
        new ScalarBackend().siluMul(expected, g, n);
        assertClose(expected, dev().readFloats(dh, n), TOL, "silu_mul");

        float[] a = random(n, 4);
        a[17] = Float.NEGATIVE_INFINITY;
        long da = dev().floats(a);
        long sum = dev().floats(new float[1]);
        dev().args().ptr(da).i32(n).f32(2.5f).ptr(sum);
        dev().launch("exp_shift_sum", 1, 1, 64);
        float[] e = a.clone();
        float s = new ScalarBackend().expShiftSum(e, 0, n, 2.5f);
        assertClose(e, dev().readFloats(da, n), TOL, "exp_shift_sum values");
        assertEquals(s, dev().readFloats(sum, 1)[0], 1e-5f * s, "exp_shift_sum sum");

        float[] y = random(n, 1);
        float[] x = random(n, 1);
        long dy = dev().floats(y);
        dev().args().ptr(dy).ptr(dev().floats(x)).i32(n);
        dev().launch("add_into", 2, 1, 64);
        for (int i = 0; i < n; i++) {
            y[i] += x[i];
        }
        assertArrayEquals(y, dev().readFloats(dy, n));
    }

    @Test
    void loraTouchesGatedRowsOnly() {
        int rows = 6;
        int outDim = 50;
        float[] out = random(rows * outDim, 1);
        int[] gated = {1, 4};
        float[] branch = random(gated.length * outDim, 1);
        long dOut = dev().floats(out);
        dev().args().ptr(dOut).ptr(dev().floats(branch)).ptr(dev().ints(gated)).i32(gated.length).i32(outDim).f32(0.5f);
        dev().launch("lora_add_gated", gated.length, 1, 64);
        float[] expected = out.clone();
        for (int j = 0; j < gated.length; j++) {
            for (int o = 0; o < outDim; o++) {
                expected[gated[j] * outDim + o] += 0.5f * branch[j * outDim + o];
            }
        }
        assertArrayEquals(expected, dev().readFloats(dOut, out.length), "ungated rows bit-for-bit unchanged");
    }

    @Test
    void samplingHelpers() {
        int rows = 3;
        int n = 1000;
        float[] x = random(rows * n, 5);
        x[n + 10] = 9f; // row 1: a tie between 10 and 700 goes to the lower index
        x[n + 700] = 9f;
        long out = dev().ints(new int[rows]);
        dev().args().ptr(dev().floats(x)).i32(rows).i32(n).ptr(out);
        dev().launch("argmax_rows", rows, 1, 64);
        int[] ids = dev().readInts(out, rows);
        for (int r = 0; r < rows; r++) {
            assertEquals(Sampler.argmax(x, r * n, n), ids[r], "argmax row " + r);
        }
        assertEquals(10, ids[1]);

        long dx = dev().floats(x);
        dev().args().ptr(dx).i32(rows).i32(n).f32(1 / 0.7f);
        dev().launch("softmax_rows", rows, 1, 64);
        float[] p = dev().readFloats(dx, rows * n);
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, x[r * n + i] / 0.7);
            }
            double z = 0;
            for (int i = 0; i < n; i++) {
                z += Math.exp(x[r * n + i] / 0.7 - max);
            }
            for (int i = 0; i < n; i++) {
                double expected = Math.exp(x[r * n + i] / 0.7 - max) / z;
                assertEquals(expected, p[r * n + i], 1e-5 * Math.max(1e-3, expected), "softmax " + r + "," + i);
            }
        }

        float[] th = {0f, 1e-3f, 2f};
        long mass = dev().floats(new float[rows]);
        long count = dev().ints(new int[rows]);
        dev().args().ptr(dx).i32(rows).i32(n).ptr(dev().floats(th)).ptr(mass).ptr(count);
        dev().launch("mass_at_least", rows, 1, 64);
        float[] m = dev().readFloats(mass, rows);
        int[] c = dev().readInts(count, rows);
        for (int r = 0; r < rows; r++) {
            double em = 0;
            int ec = 0;
            for (int i = 0; i < n; i++) {
                if (p[r * n + i] >= th[r]) {
                    em += p[r * n + i];
                    ec++;
                }
            }
            assertEquals(ec, c[r], "count at threshold " + th[r]);
            assertEquals(em, m[r], 1e-5, "mass at threshold " + th[r]);
        }
        assertEquals(n, c[0]);
        assertEquals(0, c[2]);
    }

    @Test
    void kvCompactionMatchesKvCache() {
        int layers = 3;
        int kvDim = 40;
        int capacity = 20;
        KvCache cache = new KvCache(layers, kvDim, capacity);
        float[] keys = new float[layers * capacity * kvDim];
        float[] values = new float[layers * capacity * kvDim];
        for (int l = 0; l < layers; l++) {
            float[] k = random(capacity * kvDim, 1);
            float[] v = random(capacity * kvDim, 1);
            System.arraycopy(k, 0, cache.keys(l), 0, k.length);
            System.arraycopy(v, 0, cache.values(l), 0, v.length);
            System.arraycopy(k, 0, keys, l * capacity * kvDim, k.length);
            System.arraycopy(v, 0, values, l * capacity * kvDim, v.length);
        }
        cache.append(15);
        int[] keep = {0, 2, 3, 6, 7};
        long dk = dev().floats(keys);
        long dv = dev().floats(values);
        dev().args().ptr(dk).ptr(dv).ptr(dev().ints(keep)).i32(keep.length).i32(7).i32(kvDim)
                .i64((long) capacity * kvDim);
        dev().launch("kv_compact", layers, 2, 32);
        cache.compact(7, keep, keep.length);
        float[] gk = dev().readFloats(dk, keys.length);
        float[] gv = dev().readFloats(dv, values.length);
        for (int l = 0; l < layers; l++) {
            float[] k = new float[capacity * kvDim];
            float[] v = new float[capacity * kvDim];
            System.arraycopy(gk, l * capacity * kvDim, k, 0, k.length);
            System.arraycopy(gv, l * capacity * kvDim, v, 0, v.length);
            assertArrayEquals(cache.keys(l), k, "keys of layer " + l);
            assertArrayEquals(cache.values(l), v, "values of layer " + l);
        }
    }

    /** The BF16 path's rounding against the engine's F32 to BF16. */
    @Test
    void bf16ConversionRoundsToNearestEven() {
        float[] special = {0f, -0f, 1f, -2.5f, Float.intBitsToFloat(0x3f808000), Float.intBitsToFloat(0x3f818000),
                Float.intBitsToFloat(0x3f80ffff), Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, 1e-40f,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.intBitsToFloat(0x7f800001)};
        float[] rnd = random(600, 1000);
        float[] x = new float[special.length + rnd.length];
        System.arraycopy(special, 0, x, 0, special.length);
        System.arraycopy(rnd, 0, x, special.length, rnd.length);
        int n = x.length;
        long out = dev().ints(new int[(n + 1) / 2]);
        dev().args().ptr(dev().floats(x)).ptr(out).i32(n);
        dev().launch("to_bf16", (n + 255) / 256, 1, 256);
        int[] packed = dev().readInts(out, (n + 1) / 2);
        for (int i = 0; i < n; i++) {
            int bits = (i % 2 == 0 ? packed[i / 2] : packed[i / 2] >>> 16) & 0xffff; // little-endian halves
            short expected = io.mtpspark.engine.safetensors.DType.floatToBf16(x[i]);
            assertEquals(expected & 0xffff, bits, "value " + i + " (" + x[i] + ", bits 0x"
                    + Integer.toHexString(Float.floatToRawIntBits(x[i])) + ")");
        }
    }
}
