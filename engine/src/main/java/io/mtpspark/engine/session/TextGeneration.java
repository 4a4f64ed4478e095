package io.mtpspark.engine.session;

import io.mtpspark.engine.decode.GenerationResult;

/** A generation together with its decoded text. */
public record TextGeneration(GenerationResult result, String text) {
}
