package io.mtpspark.engine.session;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.decode.AutoregressiveDecoder;
import io.mtpspark.engine.decode.Decoder;
import io.mtpspark.engine.decode.LinearDecoder;
import io.mtpspark.engine.decode.QuadraticDecoder;
import io.mtpspark.engine.llama.LlamaForward;
import io.mtpspark.engine.model.LlamaModel;
import io.mtpspark.engine.mtp.MtpAdapter;
import io.mtpspark.engine.tensor.Backend;

import java.util.List;

/**
 * Builds a {@link Decoder} by name ({@code autoregressive}, {@code linear}, {@code quadratic}), the way the CLI and
 * the Spark job choose one. MTP decoders need an adapter and a k in 1..K of that adapter.
 */
public final class DecoderFactory {
    public static final List<String> NAMES = List.of("autoregressive", "linear", "quadratic");
    /** Context used when the caller does not choose one: the model's, capped to keep the KV cache reasonable. */
    public static final int DEFAULT_MAX_CONTEXT = 4096;

    private DecoderFactory() {
    }

    /**
     * @param context positions per sequence (prompt + generation); {@code <= 0} means the model's maximum, capped at
     *                {@value #DEFAULT_MAX_CONTEXT}
     */
    public static Decoder create(String name, LlamaModel model, Backend backend, MtpAdapter adapter, int k,
                                 int context) {
        int ctx = context > 0 ? Math.min(context, model.config().seqLen())
                : Math.min(model.config().seqLen(), DEFAULT_MAX_CONTEXT);
        switch (name) {
            case "autoregressive":
                return new AutoregressiveDecoder(new LlamaForward(model, backend, 64, ctx));
            case "linear":
            case "quadratic":
                if (adapter == null) {
                    throw new EngineException("decoder " + name + " needs an MTP adapter (--adapter)");
                }
                if (k < 1 || k > adapter.k()) {
                    throw new EngineException("--k " + k + " is outside 1.." + adapter.k()
                            + " (the adapter was trained with " + adapter.k() + " mask tokens)");
                }
                LlamaForward forward = new LlamaForward(model, backend, Math.max(64, (k + 1) * (k + 1)), ctx);
                return name.equals("linear") ? new LinearDecoder(forward, adapter, k)
                        : new QuadraticDecoder(forward, adapter, k);
            default:
                throw new IllegalArgumentException("--decoder: expected one of " + String.join(", ", NAMES)
                        + ", got \"" + name + "\"");
        }
    }
}
