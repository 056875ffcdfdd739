package io.isthmus.control.qapi;

import java.util.Collections;
import java.util.Map;

/**
 * The schema's types by name (array types are named {@code [element]}): what argument validation and
 * introspection look types up in, without the rest of {@link QapiSchema}.
 *
 * <p>Immutable; safe to share between threads.
 */
final class QapiTypes {
    private final Map<String, QapiType> types;

    QapiTypes(Map<String, QapiType> types) {
        this.types = Collections.unmodifiableMap(types);
    }

    /** The type named {@code name}; throws if unknown (the schema is checked when it is loaded). */
    QapiType get(String name) {
        QapiType t = types.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no QAPI type '" + name + "'");
        }
        return t;
    }

    boolean has(String name) {
        return types.containsKey(name);
    }
}
