package io.mtpspark.engine.train;

import io.mtpspark.engine.model.LlamaConfig;
import io.mtpspark.engine.mtp.LoraTarget;
import io.mtpspark.engine.mtp.LoraWeights;
import io.mtpspark.engine.mtp.MtpAdapter;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The trainable tensors of an adapter as named parameters. The adapter's float arrays are the master copy (what is
 * saved, bit for bit); each step works on double copies ({@link Param#value}) and accumulates double gradients.
 */
public final class TrainableParams {

    /** One trainable tensor: its master (float, in the adapter), working value and gradient, and whether AdamW decays it. */
    public record Param(String name, float[] master, double[] value, double[] grad, boolean decay) {
        void load() {
            for (int i = 0; i < master.length; i++) {
                value[i] = master[i];
            }
        }
    }

    private final List<Param> params = new ArrayList<>();
    final Param maskEmbeddings;
    final Param[][] loraDown;
    final Param[][] loraUp;
    final Param fc1;
    final Param norm1;
    final Param fc2;
    final Param norm2;

    public TrainableParams(MtpAdapter adapter, LlamaConfig c, boolean trainMaskEmbeddings) {
        maskEmbeddings = add("mtp.mask_embeddings", adapter.maskEmbeddings(), false, trainMaskEmbeddings);
        loraDown = new Param[c.nLayers()][LoraTarget.values().length];
        loraUp = new Param[c.nLayers()][LoraTarget.values().length];
        for (int l = 0; l < c.nLayers(); l++) {
            for (LoraTarget t : LoraTarget.values()) {
                LoraWeights w = adapter.lora(l, t);
                if (w != null) {
                    String base = "mtp.layers." + l + "." + t.key();
                    loraDown[l][t.ordinal()] = add(base + ".lora_down", w.down(), true, true);
                    loraUp[l][t.ordinal()] = add(base + ".lora_up", w.up(), true, true);
                }
            }
        }
        fc1 = add("mtp.sampler.fc1.weight", adapter.sampler().fc1(), true, true);
        norm1 = add("mtp.sampler.norm1.weight", adapter.sampler().norm1(), false, true);
        fc2 = add("mtp.sampler.fc2.weight", adapter.sampler().fc2(), true, true);
        norm2 = add("mtp.sampler.norm2.weight", adapter.sampler().norm2(), false, true);
    }

    private Param add(String name, float[] master, boolean decay, boolean trainable) {
        Param p = new Param(name, master, new double[master.length], new double[master.length], decay);
        p.load();
        if (trainable) {
            params.add(p);
        }
        return p;
    }

    /** The parameters the optimiser updates, in a fixed order. */
    public List<Param> trainable() {
        return Collections.unmodifiableList(params);
    }

    /** Refreshes the double working copies from the float masters. */
    public void loadValues() {
        maskEmbeddings.load();
        for (Param p : params) {
            p.load();
        }
    }

    public long count() {
        long n = 0;
        for (Param p : params) {
            n += p.master().length;
        }
        return n;
    }
}
