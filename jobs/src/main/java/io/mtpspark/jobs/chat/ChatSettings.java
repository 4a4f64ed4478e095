package io.mtpspark.jobs.chat;

import java.io.Serializable;
import java.util.List;

/**
 * The job's chat options as tasks need them: {@code --system} (null: none), {@code --chat} (prompt rows go through
 * the chat template as a user turn), {@code --chat-template FILE} (null: the model's), and the job-wide stop strings.
 */
public record ChatSettings(String system, boolean chat, String chatTemplate, List<String> stop)
        implements Serializable {
    public static final ChatSettings NONE = new ChatSettings(null, false, null, List.of());

    public ChatSettings {
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    /** Whether any chat option is set (then it joins the config hash). */
    public boolean any() {
        return system != null || chat || chatTemplate != null || !stop.isEmpty();
    }

    /** The line the config hash adds for these settings. */
    public String canonical() {
        return "system=" + system + "\nchat=" + chat + "\nchat_template=" + chatTemplate + "\nstop=" + stop;
    }
}
