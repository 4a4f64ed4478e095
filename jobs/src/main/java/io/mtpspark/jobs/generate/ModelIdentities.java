package io.mtpspark.jobs.generate;

import io.mtpspark.infra.store.ContentIdentity;
import java.io.Serializable;

/**
 * The content digests ({@link ContentIdentity#digest()}) of the run's model, tokenizer and adapter as the driver
 * found them before starting tasks; null where there is no tokenizer or adapter location. They go into the config
 * hash and travel to the executors, which check that what they load is that content ({@code verified} says whether
 * they can: an unverified model's digest is not reproducible from the download).
 */
public record ModelIdentities(String model, String tokenizer, String adapter, boolean verified)
        implements Serializable {
}
