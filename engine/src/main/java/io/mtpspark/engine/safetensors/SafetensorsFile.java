package io.mtpspark.engine.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mtpspark.engine.EngineException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A validated, memory-mapped view of one {@code .safetensors} file: an 8-byte little-endian header length, a JSON
 * header mapping names to dtype/shape/offsets, then the raw data. The whole header is checked at open (known
 * dtypes, shape × dtype size = byte range, ranges inside the file, file not truncated), so reading a tensor later
 * cannot run off the end. Tensors are converted to fp32 window by window, never through one giant byte[].
 */
public final class SafetensorsFile implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final FileChannel channel;
    private ByteBuffer readChunk; // readRaw's staging, made on first use
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
                            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new EngineException(path, "safetensors file not found");
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
            long size = ch.size();
            if (size < 8) {
                throw new EngineException(path, "truncated safetensors file: " + size + " bytes");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > 100_000_000L || 8 + headerLen > size) {
                throw new EngineException(path, "corrupt safetensors file: header length " + headerLen
                        + " does not fit a file of " + size + " bytes");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8);
            JsonNode root;
            try {
                root = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new EngineException(path, "corrupt safetensors header: not valid JSON (" + e.getMessage() + ")");
            }
            if (root == null || !root.isObject()) {
                throw new EngineException(path, "corrupt safetensors header: not a JSON object");
            }
            long dataStart = 8 + headerLen;
            long dataSize = size - dataStart;
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            long maxEnd = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                TensorInfo info = parseEntry(path, e.getKey(), e.getValue());
                if (info.end() > dataSize) {
                    throw new EngineException(path, "truncated safetensors file: tensor " + info.name()
                            + " ends at data byte " + info.end() + " but the data section has " + dataSize + " bytes");
                }
                maxEnd = Math.max(maxEnd, info.end());
                tensors.put(info.name(), info);
            }
            checkDisjoint(path, tensors.values());
            if (maxEnd != dataSize) {
                throw new EngineException(path, "corrupt safetensors file: data section has " + dataSize
                        + " bytes but the header describes " + maxEnd);
            }
            return new SafetensorsFile(path, ch, dataStart, Collections.unmodifiableMap(tensors),
                    Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            closeQuietly(ch);
            throw new EngineException(path, "cannot read safetensors file: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    /** Two tensors sharing bytes would alias each other's weights: a crafted or corrupt header, refused. */
    private static void checkDisjoint(Path path, java.util.Collection<TensorInfo> tensors) {
        List<TensorInfo> byStart = new ArrayList<>(tensors);
        byStart.sort(java.util.Comparator.comparingLong(TensorInfo::begin));
        for (int i = 1; i < byStart.size(); i++) {
            TensorInfo prev = byStart.get(i - 1);
            TensorInfo next = byStart.get(i);
            if (next.begin() < prev.end()) {
                throw new EngineException(path, "corrupt safetensors header: tensors " + prev.name() + " ["
                        + prev.begin() + ", " + prev.end() + ") and " + next.name() + " [" + next.begin() + ", "
                        + next.end() + ") overlap");
            }
        }
    }

    private static TensorInfo parseEntry(Path path, String name, JsonNode node) {
        String dtypeName = node.path("dtype").asText("");
        DType dtype = DType.parse(dtypeName);
        if (dtype == null) {
            throw new EngineException(path, "unsupported dtype " + (dtypeName.isEmpty() ? "(missing)" : dtypeName)
                    + " for tensor " + name + " (supported: F32, F16, BF16)");
        }
        JsonNode shapeNode = node.path("shape");
        JsonNode offsets = node.path("data_offsets");
        if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
            throw new EngineException(path, "corrupt safetensors header: tensor " + name
                    + " lacks shape or data_offsets");
        }
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong(-1);
            if (shape[i] < 0) {
                throw new EngineException(path, "corrupt safetensors header: tensor " + name + " has a negative dimension");
            }
            try {
                elements = Math.multiplyExact(elements, shape[i]);
            } catch (ArithmeticException e) {
                throw new EngineException(path, "corrupt safetensors header: tensor " + name + " has an absurd shape "
                        + shapeNode);
            }
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin || elements > Long.MAX_VALUE / dtype.bytes()
                || end - begin != elements * dtype.bytes()) {
            throw new EngineException(path, "corrupt safetensors header: tensor " + name + " has data_offsets ["
                    + begin + ", " + end + ") but shape × " + dtype + " needs " + elements * dtype.bytes() + " bytes");
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    public Path path() {
        return path;
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new EngineException(path, "missing tensor " + name);
        }
        return info;
    }

    /** Reads a tensor as fp32, converting from its stored dtype. */
    public float[] readFloats(String name) {
        TensorInfo info = info(name);
        long n = info.elements();
        if (n > Integer.MAX_VALUE - 8) {
            throw new EngineException(path, "tensor " + name + " has " + n + " elements, over the fp32 array limit");
        }
        float[] out = new float[(int) n];
        int esize = info.dtype().bytes();
        long window = (1L << 28) / esize * esize;
        long pos = dataStart + info.begin();
        int done = 0;
        try {
            while (done < n) {
                int count = (int) Math.min(n - done, window / esize);
                ByteBuffer buf = channel.map(FileChannel.MapMode.READ_ONLY, pos, (long) count * esize)
                        .order(ByteOrder.LITTLE_ENDIAN);
                switch (info.dtype()) {
                    case F32 -> buf.asFloatBuffer().get(out, done, count);
                    case BF16 -> {
                        for (int i = 0; i < count; i++) {
                            out[done + i] = DType.bf16ToFloat(buf.getShort(i * 2));
                        }
                    }
                    case F16 -> {
                        for (int i = 0; i < count; i++) {
                            out[done + i] = DType.f16ToFloat(buf.getShort(i * 2));
                        }
                    }
                }
                done += count;
                pos += (long) count * esize;
            }
        } catch (IOException e) {
            throw new EngineException(path, "cannot read tensor " + name + ": " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * The raw little-endian bytes of a tensor in its stored dtype, as a read-only mapping: no copy is made, and the
     * mapping stays valid after {@link #close()}.
     */
    public ByteBuffer map(String name) {
        TensorInfo info = info(name);
        long bytes = info.end() - info.begin();
        if (bytes > Integer.MAX_VALUE) {
            throw new EngineException(path, "tensor " + name + " has " + bytes + " bytes, over the 2 GiB one mapping"
                    + " holds");
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + info.begin(), bytes)
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new EngineException(path, "cannot map tensor " + name + ": " + e.getMessage(), e);
        }
    }

    /**
     * A tensor's raw little-endian elements read into a heap array of its stored dtype ({@code float[]} for F32,
     * {@code short[]} of raw bits for BF16/F16), through positional reads of 1 MiB, not a mapping: the process keeps
     * the heap copy only (file pages read this way are page cache, not this process's resident memory).
     */
    public Object readRaw(String name) {
        TensorInfo info = info(name);
        long n = info.elements();
        if (n > Integer.MAX_VALUE - 8) {
            throw new EngineException(path, "tensor " + name + " has " + n + " elements, over the array limit");
        }
        int esize = info.dtype().bytes();
        float[] floats = info.dtype() == DType.F32 ? new float[(int) n] : null;
        short[] bits = floats == null ? new short[(int) n] : null;
        if (readChunk == null) { // one per file, off the heap: a chunk per tensor would grow the young generation
            readChunk = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        }
        ByteBuffer chunk = readChunk;
        long pos = dataStart + info.begin();
        int done = 0;
        try {
            while (done < n) {
                int count = (int) Math.min(n - done, chunk.capacity() / esize);
                chunk.clear().limit(count * esize);
                readFully(channel, chunk, pos);
                chunk.flip();
                if (floats != null) {
                    chunk.asFloatBuffer().get(floats, done, count);
                } else {
                    chunk.asShortBuffer().get(bits, done, count);
                }
                done += count;
                pos += (long) count * esize;
            }
        } catch (IOException e) {
            throw new EngineException(path, "cannot read tensor " + name + ": " + e.getMessage(), e);
        }
        return floats != null ? floats : bits;
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos + buf.position());
            if (r < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // already failing; the original error is what matters
            }
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }
}
