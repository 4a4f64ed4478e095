package io.mtpspark.engine.train;

/**
 * Hyper-parameters of adapter training. Defaults follow the paper where it speaks (AdamW, flat LR 2e-4 after a
 * warm-up) and common LoRA practice where it does not (betas 0.9/0.999, weight decay 0.01 on matrices only,
 * gradient-norm clipping at 1).
 */
public record TrainingConfig(
        int k,
        int rank,
        float scaling,
        double learningRate,
        int warmupSteps,
        int steps,
        int batchSize,
        double weightDecay,
        double beta1,
        double beta2,
        double epsilon,
        double gradClip,
        long seed,
        boolean trainMaskEmbeddings,
        LossOptions loss,
        int threads) {

    public TrainingConfig {
        if (k < 1 || rank < 1 || steps < 0 || batchSize < 1 || threads < 1) {
            throw new IllegalArgumentException("invalid training config: k=" + k + " rank=" + rank + " steps=" + steps
                    + " batch=" + batchSize + " threads=" + threads);
        }
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException("--lr must be > 0, got " + learningRate);
        }
    }

    /** Learning rate at a step (1-based): linear warm-up, then constant. */
    public double learningRateAt(int step) {
        return warmupSteps > 0 && step <= warmupSteps ? learningRate * step / warmupSteps : learningRate;
    }
}
