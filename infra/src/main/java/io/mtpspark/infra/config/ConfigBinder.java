package io.mtpspark.infra.config;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Builds an immutable option record from {@link ConfigValues}. Each record component is one option, named by
 * {@link ConfigKey} or by its name in kebab-case; {@link DefaultValue} supplies a default and {@link Positive} a
 * range check. Supported component types: {@code String}, {@code int}, {@code long}, {@code double},
 * {@code boolean} (and their boxes), {@code Path}, {@code URI}, {@code Duration} ({@code 30s}, {@code 5m},
 * {@code 250ms} or ISO-8601), enums (case-insensitive, {@code -} for {@code _}), {@code Optional<T>} of those for
 * options that may be absent, and {@code List<String>} (comma-separated).
 *
 * <p>Errors name the option and the offending value, e.g. {@code --max-tokens: expected a positive integer, got
 * "abc"}; an {@link IllegalArgumentException} from the record's own constructor is reported as a
 * {@link ConfigException} naming the record.
 */
public final class ConfigBinder {
    private ConfigBinder() {
    }

    public static <R extends Record> R bind(Class<R> type, ConfigValues values) {
        RecordComponent[] components = type.getRecordComponents();
        Object[] args = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            args[i] = bindComponent(components[i], values);
        }
        Class<?>[] types = Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new);
        try {
            Constructor<R> ctor = type.getDeclaredConstructor(types);
            ctor.setAccessible(true);
            return ctor.newInstance(args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ConfigException ce) {
                throw ce;
            }
            if (cause instanceof IllegalArgumentException || cause instanceof NullPointerException) {
                throw new ConfigException(null, "invalid " + type.getSimpleName() + ": " + cause.getMessage(), cause);
            }
            throw new IllegalStateException("constructor of " + type.getName() + " failed", cause);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot construct " + type.getName(), e);
        }
    }

    /** The option keys a record reads, for {@link ConfigValues#rejectUnknown}. */
    @SafeVarargs
    public static Set<String> keysOf(Class<? extends Record>... types) {
        Set<String> keys = new LinkedHashSet<>();
        for (Class<? extends Record> type : types) {
            for (RecordComponent c : type.getRecordComponents()) {
                keys.add(keyOf(c));
            }
        }
        return keys;
    }

    static String keyOf(RecordComponent c) {
        ConfigKey explicit = c.getAnnotation(ConfigKey.class);
        if (explicit != null) {
            return ConfigSource.canonicalKey(explicit.value());
        }
        return kebab(c.getName());
    }

    static String kebab(String camel) {
        StringBuilder sb = new StringBuilder();
        for (char ch : camel.toCharArray()) {
            if (Character.isUpperCase(ch)) {
                if (!sb.isEmpty()) {
                    sb.append('-');
                }
                sb.append(Character.toLowerCase(ch));
            } else {
                sb.append(ch);
            }
        }
        return sb.toString();
    }

    private static Object bindComponent(RecordComponent c, ConfigValues values) {
        String key = keyOf(c);
        boolean positive = c.isAnnotationPresent(Positive.class);
        DefaultValue def = c.getAnnotation(DefaultValue.class);
        Optional<ConfigValue> given = values.entry(key);
        ConfigValue value = given.orElse(def == null ? null
                : new ConfigValue(key, def.value(), ConfigLayer.DEFAULT, "default of " + c.getDeclaringRecord().getSimpleName()));
        Class<?> raw = c.getType();
        if (raw == Optional.class) {
            Class<?> element = typeArgument(c);
            return value == null ? Optional.empty() : Optional.of(ValueConverter.convert(value, element, positive));
        }
        if (value == null) {
            throw values.missing(key);
        }
        if (raw == List.class) {
            if (typeArgument(c) != String.class) {
                throw new IllegalArgumentException("only List<String> is supported, for --" + key);
            }
            List<String> items = new ArrayList<>();
            for (String part : value.value().split(",")) {
                if (!part.isBlank()) {
                    items.add(part.trim());
                }
            }
            return List.copyOf(items);
        }
        return ValueConverter.convert(value, raw, positive);
    }

    private static Class<?> typeArgument(RecordComponent c) {
        Type generic = c.getGenericType();
        if (generic instanceof ParameterizedType p && p.getActualTypeArguments()[0] instanceof Class<?> cls) {
            return cls;
        }
        throw new IllegalArgumentException("component " + c.getName() + " needs a concrete type argument");
    }
}
