package io.mtpspark.engine.cuda;

import io.mtpspark.engine.EngineException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The CUDA C kernel sources shipped as resources next to this class: one {@code .cu} file per op, each with one
 * {@code extern "C" __global__} entry point, plus the shared header {@code reduce.cuh}. NVRTC compiles them at
 * start-up ({@link KernelModule}); a build test compiles every one with {@code nvcc -ptx} so a syntax error fails the
 * build on machines without a GPU. Sources include no system headers, since NVRTC has none.
 */
public final class KernelSources {
    /** The header every kernel may include as {@code #include "reduce.cuh"}. */
    public static final String HEADER = "reduce.cuh";

    /** A kernel file and the entry point it defines. */
    public record Kernel(String file, String entry) {
    }

    /** Every kernel, in a stable order. A test checks this list against the .cu files present. */
    public static final List<Kernel> ALL = List.of(
            new Kernel("embedding.cu", "embed_rows"),
            new Kernel("gather.cu", "gather_rows"),
            new Kernel("rmsnorm.cu", "rmsnorm_rows"),
            new Kernel("rope.cu", "rope_rows"),
            new Kernel("attention.cu", "attention_block"),
            new Kernel("swiglu.cu", "silu_mul"),
            new Kernel("expshift.cu", "exp_shift_sum"),
            new Kernel("residual.cu", "add_into"),
            new Kernel("lora.cu", "lora_add_gated"),
            new Kernel("softmax.cu", "softmax_rows"),
            new Kernel("argmax.cu", "argmax_rows"),
            new Kernel("topp.cu", "mass_at_least"),
            new Kernel("kvcompact.cu", "kv_compact"),
            new Kernel("bf16.cu", "to_bf16"),
            new Kernel("embed_tokens.cu", "embed_tokens"),
            new Kernel("rmsnorm_to.cu", "rmsnorm_to"),
            new Kernel("qkv_rope.cu", "qkv_rope"),
            new Kernel("block_attention.cu", "block_attention"),
            new Kernel("swiglu_to.cu", "swiglu_to"),
            new Kernel("gather16.cu", "gather16"),
            new Kernel("lora_rows.cu", "lora_rows"),
            new Kernel("mtp_verify.cu", "mtp_verify"),
            new Kernel("mtp_compact.cu", "kv_compact_accepted"),
            new Kernel("sampler_input.cu", "sampler_input"),
            new Kernel("sampler_norm.cu", "sampler_norm"),
            new Kernel("spec_sample.cu", "spec_sample"),
            new Kernel("mtp_next_block.cu", "mtp_next_block"));

    private KernelSources() {
    }

    /** The text of a kernel file or of the header. */
    public static String read(String file) {
        try (InputStream in = KernelSources.class.getResourceAsStream(file)) {
            if (in == null) {
                throw new EngineException("CUDA kernel source " + file + " missing from the classpath (broken build?)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new EngineException(null, "cannot read CUDA kernel source " + file + ": " + e.getMessage(), e);
        }
    }
}
