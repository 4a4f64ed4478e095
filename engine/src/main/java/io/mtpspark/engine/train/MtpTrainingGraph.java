package io.mtpspark.engine.train;

import io.mtpspark.engine.kvcache.KvCache;
import io.mtpspark.engine.llama.AttentionMask;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.LoraTarget;
import io.mtpspark.engine.mtp.MtpAdapterConfig;
import io.mtpspark.engine.tensor.CpuBackend;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Forward and hand-written backward of the MTP training objective for one sequence, llm.c style: every forward step
 * saves what its backward needs, and the backward runs the steps in reverse.
 *
 * <p>Why only mask rows are differentiated: real tokens carry no LoRA and never attend to masks, so their hidden
 * states and K/V are the frozen model's, constants for training. They are computed once per sequence with the
 * engine's own forward; then all mask rows of the sequence (block b = real token x_b plus masks m_1..m_k at
 * positions b+1..b+k) form one batch: matmuls run over all rows at once, and attention lets mask j of block b see
 * the real keys 0..b and masks 1..j of its own block (spec §4.4). Gradients flow through the frozen base weights to
 * the LoRA branches, the mask embeddings and the sampler head.
 *
 * <p>Losses (spec §4.5), already divided by the batch-wide counts the trainer passes in: base CE at mask rows,
 * sampler CE at mask rows and real loss positions (sampler only), LCM at real positions t: mean over masks predicting
 * the same target of ‖sg(z_t) − z_mask‖². The base CE at real positions is reported (it has no gradient).
 * An instance owns large buffers and serves one thread.
 */
final class MtpTrainingGraph {
    /** Loss sums of one sequence, already scaled by the batch normalisers and weights. */
    record Losses(double baseCe, double samplerCe, double lcm, double ntpCe, long maskRows) {
        Losses plus(Losses o) {
            return new Losses(baseCe + o.baseCe, samplerCe + o.samplerCe, lcm + o.lcm, ntpCe + o.ntpCe,
                    maskRows + o.maskRows);
        }

        double total() {
            return baseCe + samplerCe + lcm;
        }
    }

    private final FrozenBase base;
    private final TrainableParams params;
    private final MtpAdapterConfig adapterConfig;
    private final LossOptions loss;
    private final LlamaConfig c;
    private final int k;
    private final float scaling;
    private final int maxLen;
    private final LlamaForward realForward;
    private final KvCache realCache;

    // gradients owned by this graph (summed by the trainer), keyed by parameter identity
    private final Map<TrainableParams.Param, double[]> grads = new IdentityHashMap<>();

    // row bookkeeping
    private int rows;
    private int[] rowBlock = new int[0];
    private int[] rowSlot = new int[0];
    private int[] rowFirst = new int[0];
    private int[] attOff = new int[0];
    private int[] cntS = new int[0];

    // real pass (constants)
    private final double[][] kc;
    private final double[][] vc;
    private double[] zReal = new double[0];

    // saved activations per layer
    private double[][] x0;
    private double[][] rms1;
    private double[][] xn;
    private double[][] q;
    private double[][] kk;
    private double[][] v;
    private double[][] att;
    private double[][] a;
    private double[][] x1;
    private double[][] rms2;
    private double[][] xn2;
    private double[][] g;
    private double[][] u;
    private double[][] h;
    private double[][][] low; // [layer][target][rows*rank]
    private double[] xf = new double[0];
    private double[] rmsF = new double[0];
    private double[] z = new double[0];

    // scratch for backward
    private double[] dx = new double[0];
    private double[] dz = new double[0];
    private double[] dxn = new double[0];
    private double[] dq = new double[0];
    private double[] dk = new double[0];
    private double[] dv = new double[0];
    private double[] da = new double[0];
    private double[] dg = new double[0];
    private double[] du = new double[0];
    private double[] dh = new double[0];
    private double[] dlow = new double[0];
    private double[] tmp = new double[0];
    private final double[] attScratch;
    private double[] logits = new double[0];

    // sampler activations over (mask rows + real loss rows)
    private double[] sIn = new double[0];
    private double[] sA1 = new double[0];
    private double[] sH1 = new double[0];
    private double[] sR1 = new double[0];
    private double[] sA2 = new double[0];
    private double[] sH2 = new double[0];
    private double[] sR2 = new double[0];
    private double[] sOut = new double[0];
    private int[] sLabel = new int[0];

    MtpTrainingGraph(LlamaModel model, FrozenBase base, TrainableParams params, MtpAdapterConfig adapterConfig,
                     LossOptions loss, int k, int maxLen) {
        this.base = base;
        this.params = params;
        this.adapterConfig = adapterConfig;
        this.loss = loss;
        this.c = model.config();
        this.k = k;
        this.scaling = adapterConfig.scaling();
        this.maxLen = maxLen;
        this.realForward = new LlamaForward(model, new CpuBackend(1), maxLen, maxLen);
        this.realCache = new KvCache(c, maxLen);
        grads.put(params.maskEmbeddings, new double[params.maskEmbeddings.value().length]);
        for (TrainableParams.Param p : params.trainable()) {
            grads.putIfAbsent(p, new double[p.value().length]);
        }
        int nl = c.nLayers();
        attScratch = new double[maxLen + k + 1];
        kc = new double[nl][maxLen * c.kvDim()];
        vc = new double[nl][maxLen * c.kvDim()];
        x0 = new double[nl][];
        rms1 = new double[nl][];
        xn = new double[nl][];
        q = new double[nl][];
        kk = new double[nl][];
        v = new double[nl][];
        att = new double[nl][];
        a = new double[nl][];
        x1 = new double[nl][];
        rms2 = new double[nl][];
        xn2 = new double[nl][];
        g = new double[nl][];
        u = new double[nl][];
        h = new double[nl][];
        low = new double[nl][LoraTarget.values().length][];
    }

    double[] grad(TrainableParams.Param p) {
        return grads.get(p);
    }

    void zeroGrads() {
        for (double[] gr : grads.values()) {
            java.util.Arrays.fill(gr, 0);
        }
    }

    /**
     * Runs the forward (and, when {@code backward}, accumulates gradients) for one sequence. {@code scaleAll} is
     * 1/(number of CE positions in the batch), {@code scaleLcm} 1/(number of LCM positions in the batch).
     */
    Losses run(TrainingSequence seq, double scaleAll, double scaleLcm, boolean backward) {
        int[] tokens = seq.tokens();
        int t = tokens.length;
        if (t > maxLen) {
            throw new IllegalArgumentException("sequence of " + t + " tokens exceeds the training length " + maxLen);
        }
        realPass(tokens);
        layoutRows(seq);
        ensureCapacity(t);
        forwardLayers(tokens);
        Losses losses = heads(seq, scaleAll, scaleLcm, backward);
        if (backward && rows > 0) {
            backwardLayers(tokens);
        }
        return losses;
    }

    // ---------------------------------------------------------------------------------------------------------
    // real tokens: the frozen model's K/V and final hidden states (constants)

    private void realPass(int[] tokens) {
        int t = tokens.length;
        int[] pos = new int[t];
        for (int i = 0; i < t; i++) {
            pos[i] = i;
        }
        realCache.truncate(0);
        realForward.forward(tokens, pos, t, AttentionMask.CAUSAL, realCache, null, 0);
        int kvDim = c.kvDim();
        for (int l = 0; l < c.nLayers(); l++) {
            float[] ks = realCache.keys(l);
            float[] vs = realCache.values(l);
            for (int i = 0; i < t * kvDim; i++) {
                kc[l][i] = ks[i];
                vc[l][i] = vs[i];
            }
        }
        if (zReal.length < t * c.dim()) {
            zReal = new double[maxLen * c.dim()];
        }
        float[] hid = realForward.hidden();
        for (int i = 0; i < t * c.dim(); i++) {
            zReal[i] = hid[i];
        }
    }

    private void layoutRows(TrainingSequence seq) {
        int t = seq.tokens().length;
        int r = seq.maskRows(k);
        if (rowBlock.length < r) {
            int cap = Math.max(r, maxLen * k);
            rowBlock = new int[cap];
            rowSlot = new int[cap];
            rowFirst = new int[cap];
            attOff = new int[cap + 1];
        }
        if (cntS.length < t) {
            cntS = new int[maxLen];
        }
        java.util.Arrays.fill(cntS, 0);
        rows = 0;
        int off = 0;
        for (int b = seq.lossStart(); b <= t - 2; b++) {
            int kb = Math.min(k, t - 2 - b);
            int first = rows;
            for (int j = 1; j <= kb; j++) {
                rowBlock[rows] = b;
                rowSlot[rows] = j;
                rowFirst[rows] = first;
                attOff[rows] = off;
                off += (b + 1 + j) * c.nHeads();
                cntS[b + j]++;
                rows++;
            }
        }
        attOff[rows] = off;
    }

    private void ensureCapacity(int t) {
        int d = c.dim();
        int need = rows * d;
        if (z.length < need) {
            int r = Math.max(rows, 1);
            int hid = c.hiddenDim();
            int qd = c.qDim();
            int kvd = c.kvDim();
            int rank = adapterConfig.rank();
            for (int l = 0; l < c.nLayers(); l++) {
                x0[l] = new double[r * d];
                rms1[l] = new double[r];
                xn[l] = new double[r * d];
                q[l] = new double[r * qd];
                kk[l] = new double[r * kvd];
                v[l] = new double[r * kvd];
                a[l] = new double[r * qd];
                x1[l] = new double[r * d];
                rms2[l] = new double[r];
                xn2[l] = new double[r * d];
                g[l] = new double[r * hid];
                u[l] = new double[r * hid];
                h[l] = new double[r * hid];
                for (LoraTarget tg : LoraTarget.values()) {
                    low[l][tg.ordinal()] = new double[r * rank];
                }
            }
            xf = new double[r * d];
            rmsF = new double[r];
            z = new double[r * d];
            int widest = Math.max(Math.max(d, qd), hid);
            dx = new double[r * d];
            dz = new double[r * d];
            dxn = new double[r * d];
            dq = new double[r * qd];
            dk = new double[r * kvd];
            dv = new double[r * kvd];
            da = new double[r * qd];
            dg = new double[r * hid];
            du = new double[r * hid];
            dh = new double[r * hid];
            dlow = new double[r * rank];
            tmp = new double[r * widest];
            int sr = r + maxLen;
            sIn = new double[sr * 2 * d];
            sA1 = new double[sr * d];
            sH1 = new double[sr * d];
            sR1 = new double[sr];
            sA2 = new double[sr * d];
            sH2 = new double[sr * d];
            sR2 = new double[sr];
            sOut = new double[sr * d];
            sLabel = new int[sr];
            logits = new double[Math.max(sr, r) * c.vocabSize()];
        }
        for (int l = 0; l < c.nLayers(); l++) {
            if (att[l] == null || att[l].length < attOff[rows]) {
                att[l] = new double[Math.max(attOff[rows], 1)];
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // forward over mask rows

    private void forwardLayers(int[] tokens) {
        int d = c.dim();
        double[] emb = params.maskEmbeddings.value();
        for (int r = 0; r < rows; r++) {
            System.arraycopy(emb, (rowSlot[r] - 1) * d, x0[0], r * d, d);
        }
        for (int l = 0; l < c.nLayers(); l++) {
            layerForward(l); // writes the layer output into x0[l + 1] (or xf after the last layer)
        }
        // final norm on the output of the last layer (stored in xf)
        for (int r = 0; r < rows; r++) {
            rmsF[r] = rmsnorm(z, r * d, xf, r * d, base.finalNorm, d);
        }
    }

    private void layerForward(int l) {
        int d = c.dim();
        int qd = c.qDim();
        int kvd = c.kvDim();
        int hid = c.hiddenDim();
        double[] in = x0[l];
        for (int r = 0; r < rows; r++) {
            rms1[l][r] = rmsnorm(xn[l], r * d, in, r * d, base.attnNorm[l], d);
        }
        linear(l, LoraTarget.Q_PROJ, xn[l], q[l], base.wq[l], base.bq[l], d, qd);
        linear(l, LoraTarget.K_PROJ, xn[l], kk[l], base.wk[l], base.bk[l], d, kvd);
        linear(l, LoraTarget.V_PROJ, xn[l], v[l], base.wv[l], base.bv[l], d, kvd);
        for (int r = 0; r < rows; r++) {
            int pos = rowBlock[r] + rowSlot[r];
            rope(q[l], r * qd, c.nHeads(), pos, false);
            rope(kk[l], r * kvd, c.nKvHeads(), pos, false);
        }
        attention(l);
        // o-projection into tmp, then residual
        linear(l, LoraTarget.O_PROJ, a[l], tmp, base.wo[l], null, qd, d);
        for (int i = 0; i < rows * d; i++) {
            x1[l][i] = in[i] + tmp[i];
        }
        for (int r = 0; r < rows; r++) {
            rms2[l][r] = rmsnorm(xn2[l], r * d, x1[l], r * d, base.ffnNorm[l], d);
        }
        linear(l, LoraTarget.GATE_PROJ, xn2[l], g[l], base.wGate[l], null, d, hid);
        linear(l, LoraTarget.UP_PROJ, xn2[l], u[l], base.wUp[l], null, d, hid);
        for (int i = 0; i < rows * hid; i++) {
            double gv = g[l][i];
            h[l][i] = gv / (1 + Math.exp(-gv)) * u[l][i];
        }
        linear(l, LoraTarget.DOWN_PROJ, h[l], tmp, base.wDown[l], null, hid, d);
        double[] out = l + 1 < c.nLayers() ? x0[l + 1] : xf;
        for (int i = 0; i < rows * d; i++) {
            out[i] = x1[l][i] + tmp[i];
        }
    }

    /** y = x W^T (+ bias) + scaling · (x D^T) U^T; saves L = x D^T for the backward. */
    private void linear(int l, LoraTarget target, double[] x, double[] y, double[] w, double[] bias, int in, int out) {
        DoubleKernels.matmul(y, x, rows, w, in, out);
        if (bias != null) {
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    y[r * out + o] += bias[o];
                }
            }
        }
        TrainableParams.Param down = params.loraDown[l][target.ordinal()];
        if (down == null) {
            return;
        }
        TrainableParams.Param up = params.loraUp[l][target.ordinal()];
        int rank = adapterConfig.rank();
        double[] lw = low[l][target.ordinal()];
        DoubleKernels.matmul(lw, x, rows, down.value(), in, rank);
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                y[r * out + o] += scaling * DoubleKernels.dot(lw, r * rank, up.value(), o * rank, rank);
            }
        }
    }

    private void attention(int l) {
        int hd = c.headDim();
        int kvd = c.kvDim();
        int qd = c.qDim();
        int group = c.groupSize();
        double scale = 1.0 / Math.sqrt(hd);
        double[] p = att[l];
        java.util.Arrays.fill(a[l], 0, rows * qd, 0);
        for (int r = 0; r < rows; r++) {
            int b = rowBlock[r];
            int j = rowSlot[r];
            int first = rowFirst[r];
            int len = b + 1 + j;
            for (int hh = 0; hh < c.nHeads(); hh++) {
                int kvOff = (hh / group) * hd;
                int qOff = r * qd + hh * hd;
                int pOff = attOff[r] + hh * len;
                double max = Double.NEGATIVE_INFINITY;
                double[] qv = q[l];
                for (int ti = 0; ti < len; ti++) {
                    // keys: the real prefix (constants) then this block's earlier masks; loops inlined because
                    // head_dim is small and a call per 8-wide dot costs more than the dot
                    double[] keys = ti <= b ? kc[l] : kk[l];
                    int kOff = (ti <= b ? ti : first + ti - b - 1) * kvd + kvOff;
                    double sdot = 0;
                    for (int e = 0; e < hd; e++) {
                        sdot += qv[qOff + e] * keys[kOff + e];
                    }
                    double sc = sdot * scale;
                    p[pOff + ti] = sc;
                    max = Math.max(max, sc);
                }
                double sum = 0;
                for (int ti = 0; ti < len; ti++) {
                    double e = Math.exp(p[pOff + ti] - max);
                    p[pOff + ti] = e;
                    sum += e;
                }
                double[] av = a[l];
                for (int ti = 0; ti < len; ti++) {
                    double w = p[pOff + ti] / sum;
                    p[pOff + ti] = w;
                    double[] vals = ti <= b ? vc[l] : v[l];
                    int vOff = (ti <= b ? ti : first + ti - b - 1) * kvd + kvOff;
                    for (int e = 0; e < hd; e++) {
                        av[qOff + e] += w * vals[vOff + e];
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // heads and losses

    private Losses heads(TrainingSequence seq, double scaleAll, double scaleLcm, boolean backward) {
        int[] tokens = seq.tokens();
        int d = c.dim();
        int vocab = c.vocabSize();
        java.util.Arrays.fill(dz, 0, rows * d, 0);
        // base CE at mask rows: label of mask j in block b is x_{b+j+1}
        DoubleKernels.matmul(logits, z, rows, base.classifier, d, vocab);
        double baseCe = 0;
        for (int r = 0; r < rows; r++) {
            int label = tokens[rowBlock[r] + rowSlot[r] + 1];
            baseCe += softmaxCe(logits, r * vocab, vocab, label, loss.baseCeWeight() * scaleAll);
        }
        if (backward && loss.baseCeWeight() != 0) {
            DoubleKernels.matmulAdd(dz, logits, rows, base.classifierT, vocab, d);
        }
        // reported only: base CE at real loss positions (no trainable parameter touches it)
        int n = seq.ntpPositions();
        int ls = seq.lossStart();
        double ntpCe = 0;
        double[] row = new double[vocab];
        for (int i = 0; i < n; i++) {
            int tpos = ls + i;
            for (int o = 0; o < vocab; o++) {
                row[o] = DoubleKernels.dot(zReal, tpos * d, base.classifier, o * d, d);
            }
            ntpCe += softmaxCe(row, 0, vocab, tokens[tpos + 1], scaleAll);
        }
        // LCM at real positions: each mask pulls toward the real latent that predicts the same token
        double lcm = 0;
        if (loss.lcmWeight() != 0) {
            for (int r = 0; r < rows; r++) {
                int tpos = rowBlock[r] + rowSlot[r];
                double wgt = loss.lcmWeight() * scaleLcm / cntS[tpos];
                double ss = 0;
                for (int i = 0; i < d; i++) {
                    double diff = z[r * d + i] - zReal[tpos * d + i];
                    ss += diff * diff;
                    if (backward) {
                        dz[r * d + i] += 2 * wgt * diff;
                    }
                }
                lcm += wgt * ss;
            }
        }
        double samplerCe = loss.samplerCeWeight() == 0 ? 0 : sampler(seq, scaleAll, backward);
        return new Losses(baseCe, samplerCe, lcm, ntpCe, rows);
    }

    /**
     * Softmax cross-entropy of one row; leaves the scaled gradient (p − onehot)·scale in place of the logits and
     * returns the scaled loss.
     */
    private static double softmaxCe(double[] lg, int off, int n, int label, double scale) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, lg[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(lg[off + i] - max);
        }
        double logZ = max + Math.log(sum);
        double ce = logZ - lg[off + label];
        for (int i = 0; i < n; i++) {
            lg[off + i] = Math.exp(lg[off + i] - logZ) * scale;
        }
        lg[off + label] -= scale;
        return ce * scale;
    }

    /**
     * The sampler head over mask rows (input [E[prev]; z_mask]) and real loss rows ([E[x_t]; z_t], sampler-only
     * gradient). Teacher forcing: prev of mask j in block b is x_{b+j}; chained: the sampler's own argmax at mask j-1.
     */
    private double sampler(TrainingSequence seq, double scaleAll, boolean backward) {
        int[] tokens = seq.tokens();
        int d = c.dim();
        int vocab = c.vocabSize();
        int n = seq.ntpPositions();
        int total = rows + n;
        double eps = c.rmsNormEps();
        TrainableParams.Param fc1 = params.fc1;
        TrainableParams.Param fc2 = params.fc2;
        double[] n1 = params.norm1.value();
        double[] n2 = params.norm2.value();
        boolean residual = adapterConfig.sampler().residual();
        double ce = 0;
        int prevChain = -1;
        for (int s = 0; s < total; s++) {
            int prev;
            int label;
            double[] zSrc;
            int zOff;
            if (s < rows) {
                int b = rowBlock[s];
                int j = rowSlot[s];
                prev = loss.chainSampler() && j > 1 ? prevChain : tokens[b + j];
                label = tokens[b + j + 1];
                zSrc = z;
                zOff = s * d;
            } else {
                int tpos = seq.lossStart() + s - rows;
                prev = tokens[tpos];
                label = tokens[tpos + 1];
                zSrc = zReal;
                zOff = tpos * d;
            }
            sLabel[s] = label;
            System.arraycopy(base.embedding, prev * d, sIn, s * 2 * d, d);
            System.arraycopy(zSrc, zOff, sIn, s * 2 * d + d, d);
            for (int o = 0; o < d; o++) {
                sA1[s * d + o] = DoubleKernels.dot(sIn, s * 2 * d, fc1.value(), o * 2 * d, 2 * d);
            }
            for (int o = 0; o < d; o++) {
                tmpSilu(sA1, s * d + o, sH1, s * d + o);
            }
            sR1[s] = rmsnorm(sH1, s * d, sH1, s * d, n1, d);
            for (int o = 0; o < d; o++) {
                sA2[s * d + o] = DoubleKernels.dot(sH1, s * d, fc2.value(), o * d, d);
            }
            for (int o = 0; o < d; o++) {
                tmpSilu(sA2, s * d + o, sH2, s * d + o);
            }
            sR2[s] = rmsnorm(sH2, s * d, sH2, s * d, n2, d);
            for (int i = 0; i < d; i++) {
                sOut[s * d + i] = sH2[s * d + i] + (residual ? sH1[s * d + i] : 0);
            }
            for (int o = 0; o < vocab; o++) {
                logits[s * vocab + o] = DoubleKernels.dot(sOut, s * d, base.classifier, o * d, d);
            }
            // (one row at a time: in chained mode the next row's input depends on this row's argmax)
            if (loss.chainSampler()) {
                int best = 0;
                for (int o = 1; o < vocab; o++) {
                    if (logits[s * vocab + o] > logits[s * vocab + best]) {
                        best = o;
                    }
                }
                prevChain = best;
            }
            ce += softmaxCe(logits, s * vocab, vocab, label, loss.samplerCeWeight() * scaleAll);
        }
        if (!backward) {
            return ce;
        }
        double[] gFc1 = grads.get(fc1);
        double[] gFc2 = grads.get(fc2);
        double[] gN1 = grads.get(params.norm1);
        double[] gN2 = grads.get(params.norm2);
        double[] dOut = new double[d];
        double[] dH1 = new double[d];
        double[] dS = new double[d];
        double[] dIn = new double[2 * d];
        for (int s = 0; s < total; s++) {
            for (int i = 0; i < d; i++) {
                dOut[i] = DoubleKernels.dot(logits, s * vocab, base.classifierT, i * vocab, vocab);
            }
            // h2 = rmsnorm(silu(a2)); out = h2 (+ h1)
            for (int i = 0; i < d; i++) {
                dH1[i] = residual ? dOut[i] : 0;
            }
            // recover s2 = silu(a2) (the pre-norm value) for the norm backward
            for (int i = 0; i < d; i++) {
                double av = sA2[s * d + i];
                tmp[i] = av / (1 + Math.exp(-av));
            }
            rmsnormBackward(dS, dOut, tmp, 0, sR2[s], n2, gN2, d);
            for (int i = 0; i < d; i++) {
                dS[i] *= siluGrad(sA2[s * d + i]);
            }
            for (int o = 0; o < d; o++) {
                if (dS[o] != 0) {
                    DoubleKernels.axpy(gFc2, o * d, dS[o], sH1, s * d, d);
                    DoubleKernels.axpy(dH1, 0, dS[o], fc2.value(), o * d, d);
                }
            }
            for (int i = 0; i < d; i++) {
                double av = sA1[s * d + i];
                tmp[i] = av / (1 + Math.exp(-av));
            }
            rmsnormBackward(dS, dH1, tmp, 0, sR1[s], n1, gN1, d);
            for (int i = 0; i < d; i++) {
                dS[i] *= siluGrad(sA1[s * d + i]);
            }
            java.util.Arrays.fill(dIn, 0);
            for (int o = 0; o < d; o++) {
                if (dS[o] != 0) {
                    DoubleKernels.axpy(gFc1, o * 2 * d, dS[o], sIn, s * 2 * d, 2 * d);
                    DoubleKernels.axpy(dIn, 0, dS[o], fc1.value(), o * 2 * d, 2 * d);
                }
            }
            if (s < rows) {
                for (int i = 0; i < d; i++) {
                    dz[s * d + i] += dIn[d + i]; // the embedding half is frozen
                }
            }
        }
        return ce;
    }

    private static void tmpSilu(double[] src, int i, double[] dst, int j) {
        double x = src[i];
        dst[j] = x / (1 + Math.exp(-x));
    }

    private static double siluGrad(double x) {
        double sg = 1 / (1 + Math.exp(-x));
        return sg * (1 + x * (1 - sg));
    }

    // ---------------------------------------------------------------------------------------------------------
    // backward over mask rows

    private void backwardLayers(int[] tokens) {
        int d = c.dim();
        // final norm
        java.util.Arrays.fill(dx, 0, rows * d, 0);
        for (int r = 0; r < rows; r++) {
            rmsnormBackwardRow(dx, r * d, dz, r * d, xf, r * d, rmsF[r], base.finalNorm, d);
        }
        for (int l = c.nLayers() - 1; l >= 0; l--) {
            layerBackward(l); // dx: gradient w.r.t. layer output in, w.r.t. layer input out
        }
        if (params.trainable().contains(params.maskEmbeddings)) {
            double[] ge = grads.get(params.maskEmbeddings);
            for (int r = 0; r < rows; r++) {
                DoubleKernels.axpy(ge, (rowSlot[r] - 1) * d, 1.0, dx, r * d, d);
            }
        }
    }

    private void layerBackward(int l) {
        int d = c.dim();
        int qd = c.qDim();
        int kvd = c.kvDim();
        int hid = c.hiddenDim();
        // out = x1 + down(h): dx (w.r.t. out) flows to x1 and to the down projection
        java.util.Arrays.fill(dh, 0, rows * hid, 0);
        linearBackward(l, LoraTarget.DOWN_PROJ, h[l], dx, dh, base.wDownT[l], hid, d);
        for (int i = 0; i < rows * hid; i++) {
            double gv = g[l][i];
            double sg = 1 / (1 + Math.exp(-gv));
            double silu = gv * sg;
            du[i] = dh[i] * silu;
            dg[i] = dh[i] * u[l][i] * sg * (1 + gv * (1 - sg));
        }
        java.util.Arrays.fill(dxn, 0, rows * d, 0);
        linearBackward(l, LoraTarget.GATE_PROJ, xn2[l], dg, dxn, base.wGateT[l], d, hid);
        linearBackward(l, LoraTarget.UP_PROJ, xn2[l], du, dxn, base.wUpT[l], d, hid);
        // dx1 = dx (residual) + norm backward of dxn
        for (int r = 0; r < rows; r++) {
            rmsnormBackwardRow(dx, r * d, dxn, r * d, x1[l], r * d, rms2[l][r], base.ffnNorm[l], d);
        }
        // x1 = x0 + o(a): dx now holds dL/dx1
        java.util.Arrays.fill(da, 0, rows * qd, 0);
        linearBackward(l, LoraTarget.O_PROJ, a[l], dx, da, base.woT[l], qd, d);
        attentionBackward(l);
        for (int r = 0; r < rows; r++) {
            int pos = rowBlock[r] + rowSlot[r];
            rope(dq, r * qd, c.nHeads(), pos, true);
            rope(dk, r * kvd, c.nKvHeads(), pos, true);
        }
        java.util.Arrays.fill(dxn, 0, rows * d, 0);
        linearBackward(l, LoraTarget.Q_PROJ, xn[l], dq, dxn, base.wqT[l], d, qd);
        linearBackward(l, LoraTarget.K_PROJ, xn[l], dk, dxn, base.wkT[l], d, kvd);
        linearBackward(l, LoraTarget.V_PROJ, xn[l], dv, dxn, base.wvT[l], d, kvd);
        for (int r = 0; r < rows; r++) {
            rmsnormBackwardRow(dx, r * d, dxn, r * d, x0[l], r * d, rms1[l][r], base.attnNorm[l], d);
        }
    }

    /**
     * Backward of {@code y = x W^T + s·(x D^T) U^T}: dx += dy W + s·(dy U) D, dU += s·dy^T L, dD += s·(dy U)^T x.
     * {@code wT} is the frozen W transposed ([in][out]).
     */
    private void linearBackward(int l, LoraTarget target, double[] x, double[] dy, double[] dxOut, double[] wT, int in,
                                int out) {
        DoubleKernels.matmulAdd(dxOut, dy, rows, wT, out, in);
        TrainableParams.Param down = params.loraDown[l][target.ordinal()];
        if (down == null) {
            return;
        }
        TrainableParams.Param up = params.loraUp[l][target.ordinal()];
        int rank = adapterConfig.rank();
        double[] lw = low[l][target.ordinal()];
        double[] gUp = grads.get(up);
        double[] gDown = grads.get(down);
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double gy = dy[r * out + o] * scaling;
                if (gy != 0) {
                    DoubleKernels.axpy(gUp, o * rank, gy, lw, r * rank, rank);
                }
            }
        }
        java.util.Arrays.fill(dlow, 0, rows * rank, 0);
        DoubleKernels.matmulBackInput(dlow, dy, rows, up.value(), rank, out);
        for (int i = 0; i < rows * rank; i++) {
            dlow[i] *= scaling;
        }
        DoubleKernels.matmulBackWeight(gDown, dlow, x, rows, in, rank);
        DoubleKernels.matmulBackInput(dxOut, dlow, rows, down.value(), in, rank);
    }

    private void attentionBackward(int l) {
        int hd = c.headDim();
        int kvd = c.kvDim();
        int qd = c.qDim();
        int group = c.groupSize();
        double scale = 1.0 / Math.sqrt(hd);
        double[] p = att[l];
        java.util.Arrays.fill(dq, 0, rows * qd, 0);
        java.util.Arrays.fill(dk, 0, rows * kvd, 0);
        java.util.Arrays.fill(dv, 0, rows * kvd, 0);
        for (int r = 0; r < rows; r++) {
            int b = rowBlock[r];
            int j = rowSlot[r];
            int first = rowFirst[r];
            int len = b + 1 + j;
            for (int hh = 0; hh < c.nHeads(); hh++) {
                int kvOff = (hh / group) * hd;
                int qOff = r * qd + hh * hd;
                int pOff = attOff[r] + hh * len;
                double dot = 0;
                // dP_t = dA · V_t, kept in attScratch; then dS_t = P_t (dP_t - Σ P dP)
                for (int ti = 0; ti < len; ti++) {
                    double[] vals = ti <= b ? vc[l] : v[l];
                    int vOff = (ti <= b ? ti : first + ti - b - 1) * kvd + kvOff;
                    double dp = 0;
                    for (int e = 0; e < hd; e++) {
                        dp += da[qOff + e] * vals[vOff + e];
                    }
                    attScratch[ti] = dp;
                    dot += p[pOff + ti] * dp;
                }
                double[] qv = q[l];
                for (int ti = 0; ti < len; ti++) {
                    double pt = p[pOff + ti];
                    double ds = pt * (attScratch[ti] - dot) * scale;
                    if (ti <= b) {
                        int kOff = ti * kvd + kvOff;
                        double[] keys = kc[l];
                        for (int e = 0; e < hd; e++) {
                            dq[qOff + e] += ds * keys[kOff + e];
                        }
                    } else {
                        int kOff = (first + ti - b - 1) * kvd + kvOff;
                        double[] keys = kk[l];
                        for (int e = 0; e < hd; e++) {
                            dq[qOff + e] += ds * keys[kOff + e];
                            dk[kOff + e] += ds * qv[qOff + e];
                            dv[kOff + e] += pt * da[qOff + e];
                        }
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // small pieces

    /** RMSNorm of one row into out (may alias x); returns the inverse RMS. */
    private double rmsnorm(double[] out, int oOff, double[] x, int xOff, double[] w, int n) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += x[xOff + i] * x[xOff + i];
        }
        double inv = 1 / Math.sqrt(ss / n + c.rmsNormEps());
        for (int i = 0; i < n; i++) {
            out[oOff + i] = w[i] * x[xOff + i] * inv;
        }
        return inv;
    }

    /** dxAcc[row] += d/dx of RMSNorm (frozen weight w) given dy. */
    private static void rmsnormBackwardRow(double[] dxAcc, int dOff, double[] dy, int yOff, double[] x, int xOff,
                                           double inv, double[] w, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += dy[yOff + i] * w[i] * x[xOff + i];
        }
        double c3 = inv * inv * inv / n * sum;
        for (int i = 0; i < n; i++) {
            dxAcc[dOff + i] += inv * w[i] * dy[yOff + i] - c3 * x[xOff + i];
        }
    }

    /** Sampler RMSNorm backward: dx (overwritten) and the trainable weight's gradient. */
    private static void rmsnormBackward(double[] dxOut, double[] dy, double[] x, int xOff, double inv, double[] w,
                                        double[] dw, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += dy[i] * w[i] * x[xOff + i];
            dw[i] += dy[i] * x[xOff + i] * inv;
        }
        double c3 = inv * inv * inv / n * sum;
        for (int i = 0; i < n; i++) {
            dxOut[i] = inv * w[i] * dy[i] - c3 * x[xOff + i];
        }
    }

    /** Rotates adjacent pairs by the position's angles (or by their negatives for the backward). */
    private void rope(double[] vec, int off, int heads, int pos, boolean inverse) {
        int half = c.headDim() / 2;
        int t = pos * half;
        for (int hh = 0; hh < heads; hh++) {
            int b = off + hh * 2 * half;
            for (int m = 0; m < half; m++) {
                double cs = base.cos[t + m];
                double sn = inverse ? -base.sin[t + m] : base.sin[t + m];
                double x = vec[b + 2 * m];
                double y = vec[b + 2 * m + 1];
                vec[b + 2 * m] = x * cs - y * sn;
                vec[b + 2 * m + 1] = x * sn + y * cs;
            }
        }
    }
}
