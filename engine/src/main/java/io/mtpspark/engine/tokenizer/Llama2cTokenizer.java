package io.mtpspark.engine.tokenizer;

import io.mtpspark.engine.EngineException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * llama2.c's tokenizer file format and algorithm: per token a float32 merge score, an int32 length and the bytes.
 * Encoding adds BOS and a dummy leading space, splits UTF-8 into code points (unknown ones fall back to byte tokens
 * {@code <0xNN>} = id byte+3), then repeatedly merges the adjacent pair whose concatenation is in the vocabulary
 * with the highest score (leftmost on ties). Pieces are compared as raw bytes (Latin-1 strings), never re-encoded.
 */
public final class Llama2cTokenizer implements Tokenizer {
    public static final int BOS = 1;
    public static final int EOS = 2;
    private static final int BYTE_FALLBACK_OFFSET = 3;

    private final String[] pieces;   // raw bytes as Latin-1 chars
    private final float[] scores;
    private final Map<String, Integer> ids;

    private Llama2cTokenizer(String[] pieces, float[] scores) {
        this.pieces = pieces;
        this.scores = scores;
        this.ids = new HashMap<>(pieces.length * 2);
        for (int i = 0; i < pieces.length; i++) {
            ids.putIfAbsent(pieces[i], i);
        }
    }

    /**
     * Loads a tokenizer file; {@code expectedVocab} is the model's vocabulary size (the file does not store it),
     * and a file holding a different number of entries is rejected.
     */
    public static Llama2cTokenizer load(Path file, int expectedVocab) {
        if (!Files.isRegularFile(file)) {
            throw new EngineException(file, "tokenizer file not found");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file); // small: a few hundred KB even for 32k entries
        } catch (IOException e) {
            throw new EngineException(file, "cannot read tokenizer: " + e.getMessage(), e);
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (buf.remaining() < 4) {
            throw new EngineException(file, "not a llama2.c tokenizer: file too short");
        }
        int maxLen = buf.getInt();
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        while (buf.hasRemaining()) {
            if (buf.remaining() < 8) {
                throw new EngineException(file, "corrupt llama2.c tokenizer: truncated entry " + pieces.size());
            }
            float score = buf.getFloat();
            int len = buf.getInt();
            if (len < 0 || len > maxLen || len > buf.remaining()) {
                throw new EngineException(file, "corrupt llama2.c tokenizer: entry " + pieces.size()
                        + " has length " + len + " (max_token_length " + maxLen + ", " + buf.remaining()
                        + " bytes left)");
            }
            byte[] piece = new byte[len];
            buf.get(piece);
            pieces.add(new String(piece, StandardCharsets.ISO_8859_1));
            scores.add(score);
        }
        if (expectedVocab > 0 && pieces.size() != expectedVocab) {
            throw new EngineException(file, "tokenizer/vocab size mismatch: the tokenizer has " + pieces.size()
                    + " entries but the model's vocab_size is " + expectedVocab);
        }
        float[] s = new float[scores.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = scores.get(i);
        }
        return new Llama2cTokenizer(pieces.toArray(String[]::new), s);
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int[] encode(String text) {
        return encode(text, true, false);
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        return encode(text, addSpecialTokens, false);
    }

    @Override
    public java.util.OptionalInt tokenId(String token) {
        Integer id = ids.get(token);
        return id == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(id);
    }

    public int[] encode(String text, boolean bos, boolean eos) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        int[] tokens = new int[utf8.length + 3];
        int n = 0;
        if (bos) {
            tokens[n++] = BOS;
        }
        if (utf8.length > 0) {
            Integer space = ids.get(" ");
            if (space != null) {
                tokens[n++] = space;
            }
        }
        int i = 0;
        while (i < utf8.length) {
            // one code point: a lead byte plus up to three continuation bytes (10xxxxxx)
            int start = i++;
            while (i < utf8.length && (utf8[i] & 0xC0) == 0x80 && i - start < 4) {
                i++;
            }
            Integer id = ids.get(new String(utf8, start, i - start, StandardCharsets.ISO_8859_1));
            if (id != null) {
                tokens[n++] = id;
            } else {
                for (int b = start; b < i; b++) {
                    tokens[n++] = (utf8[b] & 0xff) + BYTE_FALLBACK_OFFSET;
                }
            }
        }
        while (true) {
            float bestScore = -1e10f;
            int bestId = -1;
            int bestIdx = -1;
            for (int t = 0; t < n - 1; t++) {
                Integer id = ids.get(pieces[tokens[t]] + pieces[tokens[t + 1]]);
                if (id != null && scores[id] > bestScore) {
                    bestScore = scores[id];
                    bestId = id;
                    bestIdx = t;
                }
            }
            if (bestIdx < 0) {
                break;
            }
            tokens[bestIdx] = bestId;
            System.arraycopy(tokens, bestIdx + 2, tokens, bestIdx + 1, n - bestIdx - 2);
            n--;
        }
        if (eos) {
            tokens[n++] = EOS;
        }
        return java.util.Arrays.copyOf(tokens, n);
    }

    /** The raw bytes of one token as decoded after {@code previous} (run.c's decode rules). */
    public byte[] pieceBytes(int previous, int id) {
        String piece = pieces[id];
        if (previous == BOS && piece.startsWith(" ")) {
            piece = piece.substring(1); // SentencePiece's leading space is dropped after BOS
        }
        if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
            try {
                return new byte[]{(byte) Integer.parseInt(piece.substring(3, 5), 16)};
            } catch (NumberFormatException ignored) {
                // not a byte token after all; fall through
            }
        }
        return piece.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Override
    public String decode(int previous, int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int prev = previous;
        for (int id : ids) {
            if (id < 0 || id >= pieces.length) {
                throw new IllegalArgumentException("token id " + id + " outside vocabulary of " + pieces.length);
            }
            byte[] b = pieceBytes(prev, id);
            // like run.c, drop single control bytes that are not whitespace; keep high bytes so UTF-8 reassembles
            boolean control = b.length == 1 && (b[0] & 0xff) < 0x20 && !isSpace(b[0]) || b.length == 1 && b[0] == 0x7f;
            if (!control) {
                out.writeBytes(b);
            }
            prev = id;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == 0x0b || b == '\f' || b == '\r';
    }
}
