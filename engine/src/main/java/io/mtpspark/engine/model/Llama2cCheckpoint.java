package io.mtpspark.engine.model;

import io.mtpspark.engine.EngineException;

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
 * order. The file is memory-mapped and copied tensor by tensor; its size must match the header exactly.
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
            float[] embedding = r.next((long) vocab * dim);
            float[][] attnNorm = r.perLayer(nLayers, dim);
            float[][] wq = r.perLayer(nLayers, dim * dim);
            float[][] wk = r.perLayer(nLayers, dim * kvDim);
            float[][] wv = r.perLayer(nLayers, dim * kvDim);
            float[][] wo = r.perLayer(nLayers, dim * dim);
            float[][] ffnNorm = r.perLayer(nLayers, dim);
            float[][] w1 = r.perLayer(nLayers, hiddenDim * dim);
            float[][] w2 = r.perLayer(nLayers, dim * hiddenDim);
            float[][] w3 = r.perLayer(nLayers, hiddenDim * dim);
            float[] finalNorm = r.next(dim);
            r.skip((long) seqLen * headDim); // legacy freq_cis_real/imag tables; RoPE is computed, not read
            float[] classifier = tied ? embedding : r.next((long) vocab * dim);
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

    /** Sequential fp32 reader over a mapped file, one window per tensor so no tensor needs one giant buffer. */
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
