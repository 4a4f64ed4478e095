package io.mtpspark.engine.model;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.safetensors.DType;

import java.nio.file.Files;
import java.nio.file.Path;

/** Entry point for loading a model from a path: a llama2.c {@code .bin} file or a Hugging Face directory. */
public final class ModelLoader {
    private ModelLoader() {
    }

    /** Below this, a model's matrices go to the heap whatever the heap's size (a few MB cost nothing). */
    public static final long HEAP_FLOOR = 64L << 20;
    /**
     * The share of the JVM's maximum heap a model's matrices may take and still be copied to the heap when loaded
     * (the rest is left to KV caches, batches and the job); by default none, so a model above 64 MiB stays mapped.
     * On the heap the CPU kernels read 16-bit weights faster (2-core AVX2 host, docs/BENCHMARKS.md, issue 15,
     * sitting of 2026-12-04 21:33: a kernel probe 32.6-33.7 GB/s against 21-24 from a mapping, since JDK 17's buffer
     * loads re-check the buffer on every load; a 9-row block 10-15% faster), but one-row decode of the 1.4 GB BF16
     * model came out bimodal across JVMs, 46-57 ms in about two runs of three and 85-100 ms in the rest, against
     * 61-66 ms mapped, and with no cause found; so copying is an opt-in ({@value #HEAP_SHARE_PROPERTY}, with
     * {@code -XX:+UseTransparentHugePages}: without huge pages the heap runs lost their lead).
     */
    public static final double HEAP_SHARE = 0;
    /** The system property that sets the share instead of {@link #HEAP_SHARE}, e.g. 0.5. */
    public static final String HEAP_SHARE_PROPERTY = "mtp.weights.heapShare";

    /**
     * As {@link #load(Path)}, with every weight matrix converted to {@code inMemory} (null keeps the stored type),
     * and then copied to the heap in that type when the matrices take at most {@link #heapLimit()} bytes: the same
     * values, faster kernels. A model too big for that stays mapped where the file allows, so the page cache is its
     * only copy (a converted one is on the heap anyway).
     */
    public static LlamaModel load(Path path, DType inMemory) {
        return load(path, inMemory, heapLimit());
    }

    /**
     * How many bytes of matrices {@link #load(Path, DType)} copies to the heap: {@link #HEAP_SHARE} of the maximum
     * heap (or the share {@value #HEAP_SHARE_PROPERTY} gives, between 0 and 1), at least 64 MiB.
     */
    public static long heapLimit() {
        String v = System.getProperty(HEAP_SHARE_PROPERTY);
        double share = HEAP_SHARE;
        if (v != null) {
            try {
                share = Double.parseDouble(v);
            } catch (NumberFormatException e) {
                share = Double.NaN;
            }
            if (!(share >= 0 && share <= 1)) {
                throw new IllegalArgumentException("-D" + HEAP_SHARE_PROPERTY + ": expected a share of the heap "
                        + "between 0 and 1, got \"" + v + "\"");
            }
        }
        return Math.max(HEAP_FLOOR, (long) (Runtime.getRuntime().maxMemory() * share));
    }

    static LlamaModel load(Path path, DType inMemory, long heapLimit) {
        LlamaModel m = load(path); // mapped: nothing is read yet but the headers and the norms
        LlamaWeights w = inMemory == null ? m.weights() : m.weights().to(inMemory);
        if (w.matrixBytes() > heapLimit) {
            return w == m.weights() ? m : new LlamaModel(m.config(), w, m.source());
        }
        if (inMemory == null && Files.isDirectory(path)) {
            return HfModelLoader.load(path, true); // read, not copied from the mapping (whose pages would stay resident)
        }
        return new LlamaModel(m.config(), w.onHeap(), m.source());
    }

    /**
     * Parses a weight-dtype option value: {@code stored} (null), {@code f32}, {@code bf16} or {@code f16}, any case.
     */
    public static DType parseWeightDType(String option, String value) {
        if (value == null || value.equalsIgnoreCase("stored")) {
            return null;
        }
        DType t = DType.parse(value.toUpperCase(java.util.Locale.ROOT));
        if (t == null) {
            throw new IllegalArgumentException(option + ": expected stored, f32, bf16 or f16, got \"" + value + "\"");
        }
        return t;
    }

    public static LlamaModel load(Path path) {
        if (Files.isDirectory(path)) {
            return HfModelLoader.load(path);
        }
        if (!Files.exists(path)) {
            throw new EngineException(path, "model not found (expected a llama2.c .bin file or a Hugging Face "
                    + "directory)");
        }
        if (path.getFileName().toString().endsWith(".safetensors")) {
            throw new EngineException(path, "pass the model directory (with config.json), not the .safetensors file");
        }
        return Llama2cCheckpoint.load(path);
    }
}
