package io.mtpspark.engine.mtp;

import io.mtpspark.engine.model.LlamaConfig;

/** The seven Llama linears a gated LoRA can sit beside, with their input and output widths. */
public enum LoraTarget {
    Q_PROJ, K_PROJ, V_PROJ, O_PROJ, GATE_PROJ, UP_PROJ, DOWN_PROJ;

    public String key() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static LoraTarget parse(String key) {
        for (LoraTarget t : values()) {
            if (t.key().equals(key)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown LoRA target module \"" + key + "\"");
    }

    public int inDim(LlamaConfig c) {
        return switch (this) {
            case Q_PROJ, K_PROJ, V_PROJ, GATE_PROJ, UP_PROJ -> c.dim();
            case O_PROJ -> c.qDim();
            case DOWN_PROJ -> c.hiddenDim();
        };
    }

    public int outDim(LlamaConfig c) {
        return switch (this) {
            case Q_PROJ -> c.qDim();
            case K_PROJ, V_PROJ -> c.kvDim();
            case O_PROJ, DOWN_PROJ -> c.dim();
            case GATE_PROJ, UP_PROJ -> c.hiddenDim();
        };
    }
}
