package io.mtpspark.jobs.generate;

import java.util.List;

/** The input cannot be used (missing or mistyped columns, null or duplicate ids); the job refuses to start. */
public final class InputRejectedException extends RuntimeException {
    private final List<String> problems;

    public InputRejectedException(String input, List<String> problems) {
        super("input " + input + " rejected: " + String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
