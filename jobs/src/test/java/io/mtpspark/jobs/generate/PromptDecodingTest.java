package io.mtpspark.jobs.generate;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The error a prompt row gets tells an empty prompt from a blank (whitespace-only) one. */
class PromptDecodingTest {
    @Test
    void emptyAndBlankPromptsAreNamedApart() {
        assertEquals("prompt is empty", assertThrows(IllegalArgumentException.class,
                () -> io.mtpspark.jobs.chat.RowPrompts.decodePrompt(new byte[0])).getMessage());
        assertEquals("prompt is blank (whitespace only)", assertThrows(IllegalArgumentException.class,
                () -> io.mtpspark.jobs.chat.RowPrompts.decodePrompt(" \t\n".getBytes(StandardCharsets.UTF_8))).getMessage());
        assertEquals(" hi", io.mtpspark.jobs.chat.RowPrompts.decodePrompt(" hi".getBytes(StandardCharsets.UTF_8)));
    }
}
