package io.mtpspark.engine.decode;

import io.mtpspark.engine.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * Ways one request ends besides the model's EOS: extra stop token ids (a chat model's end-of-turn tokens such as
 * Llama 3's {@code <|eot_id|>}, from its generation config) and stop strings, matched on the decoded text across
 * token boundaries. Decoders consult it once per emitted token, in order, so every decoder (autoregressive or MTP,
 * any batch) stops at the same token: an accepted MTP draft that crosses a stop string is cut exactly where
 * autoregressive decoding stops. The text is later cut before the stop string ({@link GenerationResult#stopString}).
 */
public record StopCondition(int[] tokenIds, List<String> strings, Tokenizer tokenizer) {
    public static final StopCondition NONE = new StopCondition(new int[0], List.of(), null);

    public StopCondition {
        tokenIds = tokenIds == null ? new int[0] : tokenIds.clone();
        strings = strings == null ? List.of() : List.copyOf(strings);
        for (String s : strings) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
        if (!strings.isEmpty() && tokenizer == null) {
            throw new IllegalArgumentException("stop strings need the tokenizer to decode the generated text");
        }
    }

    /** The same condition with more stop strings (a row's own on top of the job's). */
    public StopCondition withStrings(List<String> more) {
        if (more == null || more.isEmpty()) {
            return this;
        }
        List<String> all = new java.util.ArrayList<>(strings);
        more.stream().filter(s -> !all.contains(s)).forEach(all::add);
        return new StopCondition(tokenIds, all, tokenizer);
    }

    public boolean isEmpty() {
        return tokenIds.length == 0 && strings.isEmpty();
    }

    Matcher matcher() {
        return new Matcher();
    }

    /**
     * One sequence's progress: the generated ids and their text, decoded incrementally (a window from the last
     * point where the text was complete, so a multi-byte character split over tokens is never matched half-made).
     */
    final class Matcher {
        private int[] ids = new int[16];
        private int count;
        private int prefixOffset;
        private int readOffset;
        private final StringBuilder text = new StringBuilder();
        private final int longest = strings.stream().mapToInt(String::length).max().orElse(0);
        private String matched;
        private boolean stopToken;

        /** Takes the next emitted token; true when it ends the sequence. */
        boolean accept(int token) {
            for (int t : tokenIds) {
                if (t == token) {
                    stopToken = true;
                    return true;
                }
            }
            if (strings.isEmpty()) {
                return false;
            }
            if (count == ids.length) {
                ids = Arrays.copyOf(ids, count * 2);
            }
            ids[count++] = token;
            String before = tokenizer.decode(-1, Arrays.copyOfRange(ids, prefixOffset, readOffset));
            String now = tokenizer.decode(-1, Arrays.copyOfRange(ids, prefixOffset, count));
            if (now.length() <= before.length() || now.endsWith("\uFFFD")) {
                return false; // an incomplete character: wait for the next token
            }
            int from = Math.max(0, text.length() - longest + 1);
            text.append(now, before.length(), now.length());
            prefixOffset = readOffset;
            readOffset = count;
            int best = -1;
            for (String s : strings) {
                int at = text.indexOf(s, from);
                if (at >= 0 && (best < 0 || at < best)) {
                    best = at;
                    matched = s;
                }
            }
            return best >= 0;
        }

        /** The stop string that ended the sequence, or null. */
        String matched() {
            return matched;
        }

        boolean stoppedByToken() {
            return stopToken;
        }
    }
}
