package io.mtpspark.infra.config;

/**
 * The places a configuration value can come from, in decreasing order of precedence: a value given on the command
 * line overrides the properties file, which overrides environment variables, which override built-in defaults.
 */
public enum ConfigLayer {
    COMMAND_LINE,
    PROPERTIES_FILE,
    ENVIRONMENT,
    DEFAULT
}
