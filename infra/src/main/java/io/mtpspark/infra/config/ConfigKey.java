package io.mtpspark.infra.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Overrides the option name of a record component bound by {@link ConfigBinder}; without it the component name in
 * kebab-case is used ({@code maxTokens} becomes {@code max-tokens}).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface ConfigKey {
    String value();
}
