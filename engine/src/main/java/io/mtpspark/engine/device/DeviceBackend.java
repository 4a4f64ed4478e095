package io.mtpspark.engine.device;

import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.tensor.Backend;
import io.mtpspark.engine.tensor.DelegatingBackend;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.logging.Logger;

/**
 * What {@code --backend cuda} and {@code --backend emulated} hand the engine: a device ({@link DeviceApi}) on which
 * forwards run device-resident ({@link #forward}), plus a host {@link Backend} for the work that stays on the host
 * beside them (the drafters' sampler head), to which every {@link Backend} call delegates. Each model's weights are
 * uploaded once ({@link DeviceModel}, kept per model for the life of this object, so a Spark executor lending it to
 * its tasks uploads once) after checking the whole memory plan against the device's free memory.
 */
public final class DeviceBackend extends DelegatingBackend {
    private static final Logger LOG = Logger.getLogger(DeviceBackend.class.getName());
    private final DeviceApi device;
    private final ElementType weights;
    private final Map<LlamaModel, DeviceModel> models = new IdentityHashMap<>();

    /**
     * @param device  the device; closed with this backend
     * @param weights element type of the weight matrices on the device (BF16, or F32 for exact comparison)
     * @param host    the backend for host-side work; closed with this backend
     */
    public DeviceBackend(DeviceApi device, ElementType weights, Backend host) {
        super(host);
        this.device = device;
        this.weights = weights;
    }

    public DeviceApi device() {
        return device;
    }

    public ElementType weights() {
        return weights;
    }

    @Override
    public String name() {
        return device.name() + ", device-resident forward, " + weights + " weights, CUDA graphs "
                + (DeviceForward.graphsByDefault() ? "on" : "off");
    }

    @Override
    public boolean holdsDeviceState() {
        return true;
    }

    /**
     * A device forward for {@code model} (uploading its weights on first use) with {@code slots} KV slots. Before the
     * first upload, weights + KV + activations + workspace are checked against free device memory.
     */
    public DeviceForward forward(LlamaModel model, int rows, int context, int logitRows, int slots, int loraRank) {
        synchronized (device) { // tasks of one executor share the device; its calls are one thread at a time
            return open(model, rows, context, logitRows, slots, loraRank);
        }
    }

    private DeviceForward open(LlamaModel model, int rows, int context, int logitRows, int slots, int loraRank) {
        DeviceModel dm = models.get(model);
        if (dm == null) {
            int ctx = Math.min(context, model.config().seqLen());
            DeviceMemoryPlan.of(model.config(), weights, rows, ctx, logitRows, slots, loraRank).check(device);
            long t0 = System.nanoTime();
            dm = DeviceModel.upload(device, model, weights);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            long mib = dm.weightBytes() >> 20;
            LOG.info(() -> "uploaded " + mib + " MiB of " + weights + " weights to " + device.name() + " in " + ms
                    + " ms");
            models.put(model, dm);
        }
        return new DeviceForward(dm, rows, context, logitRows, slots, this);
    }

    @Override
    public void close() {
        synchronized (device) {
            closeAll();
        }
    }

    private void closeAll() {
        for (DeviceModel m : models.values()) {
            m.close();
        }
        models.clear();
        device.close();
        super.close();
    }
}
