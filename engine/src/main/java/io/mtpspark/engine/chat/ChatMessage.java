package io.mtpspark.engine.chat;

import java.util.Set;

/**
 * One turn of a conversation as chat templates see it: a role ({@code system}, {@code user}, {@code assistant} or
 * {@code tool}) and its text. Validated here, at the boundary, so a bad row is refused with the field it got wrong
 * before any template runs.
 */
public record ChatMessage(String role, String content) {
    public static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

    public ChatMessage {
        if (role == null) {
            throw new IllegalArgumentException("message role is missing");
        }
        if (!ROLES.contains(role)) {
            throw new IllegalArgumentException("unknown message role \"" + role + "\" (expected one of system, user, "
                    + "assistant, tool)");
        }
        if (content == null || content.isEmpty()) {
            throw new IllegalArgumentException("empty content in a " + role + " message");
        }
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }
}
