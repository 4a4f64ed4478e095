package io.mtpspark.engine.train;

import java.util.List;

/**
 * AdamW with bias correction and decoupled weight decay. Moments are kept in float, like the parameters' masters,
 * so a checkpoint holds the exact optimiser state and a resumed run continues bit for bit.
 */
final class AdamW {
    private final List<TrainableParams.Param> params;
    final float[][] m;
    final float[][] v;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;

    AdamW(List<TrainableParams.Param> params, double beta1, double beta2, double eps, double weightDecay) {
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        m = new float[params.size()][];
        v = new float[params.size()][];
        for (int i = 0; i < params.size(); i++) {
            m[i] = new float[params.get(i).master().length];
            v[i] = new float[params.get(i).master().length];
        }
    }

    /** One update at step t (1-based) with learning rate lr, from the gradients in each param's grad array. */
    void step(int t, double lr) {
        double c1 = 1 - Math.pow(beta1, t);
        double c2 = 1 - Math.pow(beta2, t);
        for (int i = 0; i < params.size(); i++) {
            TrainableParams.Param p = params.get(i);
            float[] w = p.master();
            double[] g = p.grad();
            float[] mi = m[i];
            float[] vi = v[i];
            double decay = p.decay() ? weightDecay : 0;
            for (int j = 0; j < w.length; j++) {
                double mj = beta1 * mi[j] + (1 - beta1) * g[j];
                double vj = beta2 * vi[j] + (1 - beta2) * g[j] * g[j];
                mi[j] = (float) mj;
                vi[j] = (float) vj;
                double update = (mj / c1) / (Math.sqrt(vj / c2) + eps) + decay * w[j];
                w[j] = (float) (w[j] - lr * update);
            }
        }
    }
}
