package io.mtpspark.engine.chat;

import io.mtpspark.engine.tokenizer.HfTokenizer;
import io.mtpspark.engine.tokenizer.RealTokenizers;
import java.util.ArrayList;
import java.util.List;

/**
 * Render + tokenize throughput over 10,000 conversations with the real Llama 3 tokenizer and chat template, one
 * thread (what one executor task does per row before decoding). Run:
 * {@code java -cp engine/target/classes:engine/target/test-classes:$(cat cp.txt) io.mtpspark.engine.chat.ChatPromptThroughput}.
 */
public final class ChatPromptThroughput {
    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        List<List<ChatMessage>> conversations = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            conversations.add(List.of(ChatMessage.system("You are a helpful assistant. Answer briefly."),
                    ChatMessage.user("Question " + i + ": summarise the plot of a short story about a fox, a crow "
                            + "and a piece of cheese, in three sentences."),
                    ChatMessage.assistant("A crow holds cheese; a fox flatters her; she sings and drops it."),
                    ChatMessage.user("Now as a haiku, number " + i + ".")));
        }
        try (HfTokenizer tok = HfTokenizer.load(RealTokenizers.llama3().resolve("tokenizer.json"), 0)) {
            ChatPrompts prompts = new ChatPrompts(ChatConfig.load(RealTokenizers.llama3(), null), tok);
            for (int w = 0; w < 2000; w++) { // warm-up: JIT
                prompts.encode(conversations.get(w % n), true);
            }
            long tokens = 0;
            long renderNanos = 0;
            long t0 = System.nanoTime();
            for (List<ChatMessage> c : conversations) {
                long r0 = System.nanoTime();
                String text = prompts.render(c, true);
                renderNanos += System.nanoTime() - r0;
                tokens += prompts.encodeText(text).length;
            }
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("{\"conversations\": %d, \"seconds\": %.3f, \"rows_per_s\": %.0f, \"render_share\": %.2f,"
                    + " \"prompt_tokens\": %d, \"tokens_per_s\": %.0f}%n", n, s, n / s, renderNanos / 1e9 / s, tokens,
                    tokens / s);
        }
    }
}
