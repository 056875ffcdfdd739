package io.isthmus.control.qapi;

import io.isthmus.control.QmpError;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The QAPI schema Isthmus serves, loaded once from the schema files in {@code /qapi/} on the
 * class path (see {@code schema.json}). Everything QMP and the command line know about commands,
 * argument types and events comes from here: argument validation ({@link #validateArguments}),
 * command-line typing ({@link #keyvalToArguments}) and {@code query-qmp-schema}
 * ({@link #introspect}).
 *
 * <p>Immutable after loading; safe to share between threads.
 */
public final class QapiSchema {
    private static final String RESOURCE_DIR = "/qapi";
    private static final String MAIN_FILE = "schema.json";

    private static volatile QapiSchema instance;

    private final QapiTypes types;
    private final Map<String, QapiCommand> commands;
    private final Map<String, QapiEvent> events;
    /** Commands and events in definition order. */
    private final List<Object> entities;
    private volatile List<Object> introspection;

    private QapiSchema(SchemaBuilder b) {
        this.types = new QapiTypes(b.types);
        this.commands = Collections.unmodifiableMap(b.commands);
        this.events = Collections.unmodifiableMap(b.events);
        this.entities = List.copyOf(b.entities);
    }

    /** The schema of Isthmus, parsed on first use and cached. */
    public static QapiSchema load() {
        QapiSchema s = instance;
        if (s == null) {
            synchronized (QapiSchema.class) {
                s = instance;
                if (s == null) {
                    s = new QapiSchema(SchemaBuilder.load(RESOURCE_DIR, MAIN_FILE));
                    instance = s;
                }
            }
        }
        return s;
    }

    /** Loads another schema from class-path resources (tests). */
    static QapiSchema loadFrom(String resourceDir, String mainFile) {
        return new QapiSchema(SchemaBuilder.load(resourceDir, mainFile));
    }

    /** Command names in schema order. */
    public Set<String> commandNames() {
        return commands.keySet();
    }

    public boolean hasCommand(String name) {
        return commands.containsKey(name);
    }

    public QapiCommand command(String name) {
        return commands.get(name);
    }

    public boolean allowsOob(String name) {
        QapiCommand c = commands.get(name);
        return c != null && c.allowOob();
    }

    /** Event names in schema order. */
    public Set<String> eventNames() {
        return events.keySet();
    }

    public QapiEvent event(String name) {
        return events.get(name);
    }

    /** The type named {@code name} (array types are named {@code [element]}); throws if unknown. */
    public QapiType type(String name) {
        return types.get(name);
    }

    public boolean hasType(String name) {
        return types.has(name);
    }

    /**
     * Checks the arguments of a QMP command as QEMU's marshaller does, throwing QEMU's error for the
     * first problem. {@code args} is the {@code arguments} object ({@code {}} when absent).
     */
    public void validateArguments(String command, Map<String, Object> args) throws QmpError {
        parseArguments(command, args);
    }

    /**
     * Like {@link #validateArguments}, and returns the arguments normalized as QEMU sees them:
     * uint64 and size members are non-negative (negative JSON integers wrap to 2^64 + v, held as
     * BigInteger beyond the long range).
     */
    @SuppressWarnings("unchecked")
    public Map<String, Object> parseArguments(String command, Map<String, Object> args) throws QmpError {
        QapiCommand c = commands.get(command);
        if (c == null) {
            throw new IllegalArgumentException("no QAPI command '" + command + "'");
        }
        return (Map<String, Object>) new QapiInputVisitor(types, false).visit(null, c.argType(), args);
    }

    /**
     * Checks a JSON value against a type (a JSON-form command-line option such as
     * {@code --blockdev '{...}'}) and returns it normalized like {@link #parseArguments}.
     */
    public Object parseType(String typeName, Object value) throws QmpError {
        return new QapiInputVisitor(types, false).visit(null, typeName, value);
    }

    /**
     * Like {@link #parseType(String, Object)} for a value that QEMU visits under a name (qom-set's value is
     * visited as the property: errors read {@code 'limits.iops-total'}).
     */
    public Object parseType(String name, String typeName, Object value) throws QmpError {
        return new QapiInputVisitor(types, false).visit(name, typeName, value);
    }

    /** Checks a JSON value against a type, throwing QEMU's error for the first problem. */
    public void validateType(String typeName, Object value) throws QmpError {
        parseType(typeName, value);
    }

    /**
     * Types a keyval tree ({@link Keyval#parse}) per {@code typeName}, the way QEMU's keyval input
     * visitor does, so that {@code --export nbd,id=e,...} yields the same value as its JSON form.
     */
    @SuppressWarnings("unchecked")
    public Map<String, Object> keyvalToArguments(String typeName, Map<String, Object> keyvalTree) throws QmpError {
        return (Map<String, Object>) new QapiInputVisitor(types, true).visit(null, typeName, keyvalTree);
    }

    /** The {@code query-qmp-schema} value: SchemaInfo entries with masked type names. */
    public List<Object> introspect() {
        List<Object> r = introspection;
        if (r == null) {
            r = Introspector.introspect(types, entities);
            introspection = r;
        }
        return r;
    }
}
