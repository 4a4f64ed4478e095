package io.mtpspark.engine.train;

import io.mtpspark.engine.model.LayerWeights;
import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.tensor.WeightTensor;

/**
 * Double-precision copies of the frozen base weights the training graph multiplies by, plus a double RoPE table.
 * Made once per trainer and shared read-only by every worker thread.
 */
final class FrozenBase {
    final LlamaConfig c;
    final double[] embedding;
    final double[] classifier;
    final double[] finalNorm;
    final double[][] attnNorm;
    final double[][] ffnNorm;
    final double[][] wq;
    final double[][] wk;
    final double[][] wv;
    final double[][] wo;
    final double[][] bq;
    final double[][] bk;
    final double[][] bv;
    final double[][] wGate;
    final double[][] wUp;
    final double[][] wDown;
    // transposes ([in][out]) of the frozen matrices: input gradients become plain row products
    final double[] classifierT;
    final double[][] wqT;
    final double[][] wkT;
    final double[][] wvT;
    final double[][] woT;
    final double[][] wGateT;
    final double[][] wUpT;
    final double[][] wDownT;
    final double[] cos;
    final double[] sin;

    FrozenBase(LlamaModel model, int positions) {
        c = model.config();
        embedding = toDouble(model.weights().tokenEmbedding());
        classifier = model.weights().classifier() == model.weights().tokenEmbedding() ? embedding
                : toDouble(model.weights().classifier());
        finalNorm = toDouble(model.weights().finalNorm());
        int n = c.nLayers();
        attnNorm = new double[n][];
        ffnNorm = new double[n][];
        wq = new double[n][];
        wk = new double[n][];
        wv = new double[n][];
        wo = new double[n][];
        bq = new double[n][];
        bk = new double[n][];
        bv = new double[n][];
        wGate = new double[n][];
        wUp = new double[n][];
        wDown = new double[n][];
        for (int l = 0; l < n; l++) {
            LayerWeights w = model.weights().layers()[l];
            attnNorm[l] = toDouble(w.attnNorm());
            ffnNorm[l] = toDouble(w.ffnNorm());
            wq[l] = toDouble(w.wq());
            wk[l] = toDouble(w.wk());
            wv[l] = toDouble(w.wv());
            wo[l] = toDouble(w.wo());
            bq[l] = w.bq() == null ? null : toDouble(w.bq());
            bk[l] = w.bk() == null ? null : toDouble(w.bk());
            bv[l] = w.bv() == null ? null : toDouble(w.bv());
            wGate[l] = toDouble(w.wGate());
            wUp[l] = toDouble(w.wUp());
            wDown[l] = toDouble(w.wDown());
        }
        classifierT = DoubleKernels.transpose(classifier, c.vocabSize(), c.dim());
        wqT = new double[n][];
        wkT = new double[n][];
        wvT = new double[n][];
        woT = new double[n][];
        wGateT = new double[n][];
        wUpT = new double[n][];
        wDownT = new double[n][];
        for (int l = 0; l < n; l++) {
            wqT[l] = DoubleKernels.transpose(wq[l], c.qDim(), c.dim());
            wkT[l] = DoubleKernels.transpose(wk[l], c.kvDim(), c.dim());
            wvT[l] = DoubleKernels.transpose(wv[l], c.kvDim(), c.dim());
            woT[l] = DoubleKernels.transpose(wo[l], c.dim(), c.qDim());
            wGateT[l] = DoubleKernels.transpose(wGate[l], c.hiddenDim(), c.dim());
            wUpT[l] = DoubleKernels.transpose(wUp[l], c.hiddenDim(), c.dim());
            wDownT[l] = DoubleKernels.transpose(wDown[l], c.dim(), c.hiddenDim());
        }
        int half = c.headDim() / 2;
        cos = new double[positions * half];
        sin = new double[positions * half];
        for (int m = 0; m < half; m++) {
            double inv = 1.0 / Math.pow(c.ropeTheta(), (2 * m) / (double) c.headDim());
            if (c.ropeScaling() != null) {
                inv = c.ropeScaling().scale(inv);
            }
            double freq = (float) inv; // the engine's forward rounds frequencies to float; match it
            for (int p = 0; p < positions; p++) {
                double angle = (float) (p * (float) freq);
                cos[p * half + m] = Math.cos(angle);
                sin[p * half + m] = Math.sin(angle);
            }
        }
    }

    /** A frozen matrix widened element by element (no intermediate F32 copy of a BF16 weight). */
    static double[] toDouble(WeightTensor v) {
        double[] d = new double[Math.toIntExact(v.elements())];
        for (int i = 0; i < d.length; i++) {
            d[i] = v.at(i);
        }
        return d;
    }

    static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
