package io.mtpspark.engine.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class GenerationChecksTest {
    private static String refusal(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void refusesWithTheNameTheUserWrote() {
        assertEquals("max_tokens must be >= 1, got 0", refusal(() -> GenerationChecks.maxTokens("max_tokens", 0)));
        assertEquals("--max-tokens must be >= 1, got 3000000000",
                refusal(() -> GenerationChecks.maxTokens("--max-tokens", 3_000_000_000L)));
        assertEquals(7, GenerationChecks.maxTokens("--max-tokens", 7));
        assertEquals("seed must be an integer, got 1.5", refusal(() -> GenerationChecks.integer("seed", 1.5)));
        assertEquals("seed must be an integer, got 1.0E300", refusal(() -> GenerationChecks.integer("seed", 1e300)));
        assertEquals("seed must be an integer, got NaN", refusal(() -> GenerationChecks.integer("seed", Double.NaN)));
        assertEquals(-4L, GenerationChecks.integer("seed", -4.0));
        assertEquals("temperature must be a finite number >= 0, got NaN",
                refusal(() -> GenerationChecks.temperature("temperature", Double.NaN)));
        assertEquals("--prompt is empty", refusal(() -> GenerationChecks.prompt("--prompt", "")));
        assertEquals("--prompt is blank (whitespace only)", refusal(() -> GenerationChecks.prompt("--prompt", " ")));
        assertEquals("--k 9 is outside 1..8 (the adapter was trained with 8 mask tokens)",
                refusal(() -> GenerationChecks.kWithinAdapter(9, 8)));
    }
}
