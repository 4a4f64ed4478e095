package io.mtpspark.infra.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a numeric or {@code Duration} record component that must be strictly greater than zero; a violation is
 * reported as {@code --key: expected a positive integer, got "..."}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Positive {
}
