package io.mtpspark.engine.model;

import io.mtpspark.engine.EngineException;
import io.mtpspark.engine.safetensors.DType;
import io.mtpspark.engine.tensor.WeightTensor;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads llama2.c checkpoints: a header of seven int32 ({@code dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size, seq_len}; a negative vocab_size means an untied classifier follows), then fp32 weights in llama2.c
 * order. The file is memory-mapped: the matrices are F32 {@link WeightTensor}s over the mapping (the page cache is
 * the only copy), the small norm vectors are copied to the heap. Its size must match the header exactly.
 * llama2.c already rotates adjacent pairs in RoPE, which is the engine's layout, so no permutation is needed.
 */
public final class Llama2cCheckpoint {
    private static final int HEADER_BYTES = 7 * Integer.BYTES;

    private Llama2cCheckpoint() {
    }

    public static LlamaModel load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new EngineException(file, "model file not found");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < HEADER_BYTES) {
                throw new EngineException(file, "truncated llama2.c checkpoint: " + size
                        + " bytes, smaller than the 28-byte header");
            }
            MappedByteBuffer header = ch.map(FileChannel.MapMode.READ_ONLY, 0, HEADER_BYTES);
            header.order(ByteOrder.LITTLE_ENDIAN);
            int dim = header.getInt();
            int hiddenDim = header.getInt();
            int nLayers = header.getInt();
            int nHeads = header.getInt();
            int nKvHeads = header.getInt();
            int vocabRaw = header.getInt();
            int seqLen = header.getInt();
            boolean tied = vocabRaw > 0;
            int vocab = Math.abs(vocabRaw);
            if (dim <= 0 || hiddenDim <= 0 || nLayers <= 0 || nHeads <= 0 || nKvHeads <= 0 || vocab == 0
                    || seqLen <= 0 || dim % nHeads != 0 || nHeads % nKvHeads != 0 || (dim / nHeads) % 2 != 0) {
                throw new EngineException(file, String.format(
                        "not a llama2.c checkpoint: implausible header dim=%d hidden_dim=%d n_layers=%d n_heads=%d "
                                + "n_kv_heads=%d vocab_size=%d seq_len=%d", dim, hiddenDim, nLayers, nHeads, nKvHeads,
                        vocabRaw, seqLen));
            }
            int headDim = dim / nHeads;
            int kvDim = nKvHeads * headDim;
            long perLayer = (long) dim + (long) dim * dim + 2L * dim * kvDim + (long) dim * dim + dim
                    + 3L * hiddenDim * dim;
            long floats = (long) vocab * dim + nLayers * perLayer + dim + (long) seqLen * headDim
                    + (tied ? 0 : (long) vocab * dim);
            long expected = HEADER_BYTES + floats * Float.BYTES;
            if (size != expected) {
                throw new EngineException(file, String.format(
                        "corrupt llama2.c checkpoint: header (dim=%d, n_layers=%d, vocab_size=%d, seq_len=%d) needs "
                                + "%d bytes but the file has %d (%s)", dim, nLayers, vocabRaw, seqLen, expected, size,
                        size < expected ? "truncated" : "trailing bytes"));
            }
            LlamaConfig config = new LlamaConfig("llama2c", dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab, seqLen,
                    headDim, 10000.0, 1e-5f, null, false, tied, 1, 2, true);
            Reader r = new Reader(ch, HEADER_BYTES);
            WeightTensor embedding = r.matrix(vocab, dim);
            float[][] attnNorm = r.perLayer(nLayers, dim);
            WeightTensor[] wq = r.matrices(nLayers, dim, dim);
            WeightTensor[] wk = r.matrices(nLayers, kvDim, dim);
            WeightTensor[] wv = r.matrices(nLayers, kvDim, dim);
            WeightTensor[] wo = r.matrices(nLayers, dim, dim);
            float[][] ffnNorm = r.perLayer(nLayers, dim);
            WeightTensor[] w1 = r.matrices(nLayers, hiddenDim, dim);
            WeightTensor[] w2 = r.matrices(nLayers, dim, hiddenDim);
            WeightTensor[] w3 = r.matrices(nLayers, hiddenDim, dim);
            float[] finalNorm = r.next(dim);
            r.skip((long) seqLen * headDim); // legacy freq_cis_real/imag tables; RoPE is computed, not read
            WeightTensor classifier = tied ? embedding : r.matrix(vocab, dim);
            LayerWeights[] layers = new LayerWeights[nLayers];
            for (int l = 0; l < nLayers; l++) {
                layers[l] = new LayerWeights(attnNorm[l], wq[l], wk[l], wv[l], wo[l], null, null, null, ffnNorm[l],
                        w1[l], w2[l], w3[l]);
            }
            return new LlamaModel(config, new LlamaWeights(embedding, layers, finalNorm, classifier),
                    file.toString());
        } catch (IOException e) {
            throw new EngineException(file, "cannot read model file: " + e.getMessage(), e);
        }
    }

    /** Sequential fp32 reader over a mapped file, one mapping per tensor so no tensor needs one giant buffer. */
    private static final class Reader {
        private final FileChannel ch;
        private long offset;

        Reader(FileChannel ch, long offset) {
            this.ch = ch;
            this.offset = offset;
        }

        float[] next(long count) throws IOException {
            if (count > Integer.MAX_VALUE - 8) {
                throw new IOException("tensor of " + count + " floats exceeds the fp32 array limit");
            }
            float[] out = new float[(int) count];
            int done = 0;
            while (done < count) {
                int chunk = (int) Math.min(count - done, 1 << 28);
                FloatBuffer fb = ch.map(FileChannel.MapMode.READ_ONLY, offset, (long) chunk * Float.BYTES)
                        .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                fb.get(out, done, chunk);
                done += chunk;
                offset += (long) chunk * Float.BYTES;
            }
            return out;
        }

        /** The next {@code rows × cols} floats as a tensor over their own read-only mapping. */
        WeightTensor matrix(int rows, int cols) throws IOException {
            long bytes = (long) rows * cols * Float.BYTES;
            if (bytes > Integer.MAX_VALUE) {
                throw new IOException("tensor of [" + rows + "][" + cols + "] floats exceeds the 2 GiB a mapping holds");
            }
            MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, offset, bytes);
            offset += bytes;
            return WeightTensor.ofBytes(DType.F32, m, rows, cols);
        }

        WeightTensor[] matrices(int layers, int rows, int cols) throws IOException {
            WeightTensor[] out = new WeightTensor[layers];
            for (int l = 0; l < layers; l++) {
                out[l] = matrix(rows, cols);
            }
            return out;
        }

        float[][] perLayer(int layers, int each) throws IOException {
            float[][] out = new float[layers][];
            for (int l = 0; l < layers; l++) {
                out[l] = next(each);
            }
            return out;
        }

        void skip(long count) {
            offset += count * Float.BYTES;
        }
    }
}
