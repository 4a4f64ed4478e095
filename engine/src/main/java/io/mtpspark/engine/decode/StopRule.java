package io.mtpspark.engine.decode;

import io.mtpspark.engine.model.LlamaConfig;

/** The tokens that end a sequence: EOS always, BOS too for models that use it as a document delimiter. */
public record StopRule(int eos, int bos, boolean stopOnBos) {

    public static StopRule of(LlamaConfig c) {
        return new StopRule(c.eosId(), c.bosId(), c.stopOnBos());
    }

    public boolean isStop(int token) {
        return token == eos || (stopOnBos && token == bos);
    }

    /** The stop token ids, for a device-side stop table. */
    public int[] ids() {
        return stopOnBos && bos != eos ? new int[]{eos, bos} : new int[]{eos};
    }
}
