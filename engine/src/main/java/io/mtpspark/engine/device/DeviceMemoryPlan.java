package io.mtpspark.engine.device;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.model.LlamaConfig;

/**
 * Device bytes a device engine needs, computed before anything is loaded: the weight slab, the KV pool (slots ×
 * (context + block rows) × layers × 2 × kvDim), the forward's activations for its row count and the GEMM workspace.
 * {@link #check} compares the total with the device's free memory and refuses with the numbers and the knobs to turn,
 * instead of failing inside cuBLAS halfway through a load.
 */
public record DeviceMemoryPlan(long weightBytes, long kvBytes, long activationBytes, long workspaceBytes) {
    /** The cuBLAS workspace the CUDA device sets before any capture. */
    public static final long WORKSPACE_BYTES = 32L << 20;

    public long totalBytes() {
        return weightBytes + kvBytes + activationBytes + workspaceBytes;
    }

    /**
     * @param rows      rows per forward over the whole batch
     * @param context   positions per sequence
     * @param logitRows rows per forward whose logits are computed
     * @param slots     sequences decoded together (KV slots)
     * @param loraRank  the adapter's LoRA rank, 0 without an adapter
     */
    public static DeviceMemoryPlan of(LlamaConfig c, ElementType type, int rows, int context, int logitRows,
                                      int slots, int loraRank) {
        boolean tied = c.tiedEmbeddings();
        long weights = DeviceModel.weightBytes(c, type, c.qkvBias(), tied);
        long kv = DeviceForward.kvPoolBytes(c, type, slots, context + rows);
        long act = DeviceForward.activationBytes(c, type, rows, context, logitRows, loraRank);
        return new DeviceMemoryPlan(weights, kv, act, WORKSPACE_BYTES);
    }

    /** Throws when the plan does not fit the device's free memory, naming every part and the knobs. */
    public void check(DeviceApi device) {
        long free = device.freeBytes();
        if (totalBytes() > free) {
            throw new EngineException(String.format("not enough device memory on %s: weights %d MiB + KV cache %d MiB"
                    + " + activations %d MiB + workspace %d MiB = %d MiB, but %d MiB are free; lower --batch-size or"
                    + " --context (the KV cache grows with both), or use BF16 weights", device.name(),
                    mib(weightBytes), mib(kvBytes), mib(activationBytes), mib(workspaceBytes), mib(totalBytes()),
                    mib(free)));
        }
    }

    private static long mib(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }
}
