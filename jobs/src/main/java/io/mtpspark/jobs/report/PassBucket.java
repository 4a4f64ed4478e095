package io.mtpspark.jobs.report;

/** One bar of the tokens-per-pass distribution: how many forward passes emitted {@code tokens} tokens. */
public record PassBucket(int tokens, long passes) {
}
