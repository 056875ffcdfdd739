package io.isthmus.control.commands;

import io.isthmus.control.QmpError;
import io.isthmus.control.qapi.QapiSchema;
import io.isthmus.engine.EngineException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The handlers of every QMP command Isthmus serves, by name. Arguments are validated against the QAPI
 * schema before any handler runs. Control thread only, after start-up registration.
 */
public final class CommandRegistry {
    private final QapiSchema schema;
    private final Map<String, CommandHandler> handlers = new LinkedHashMap<>();

    public CommandRegistry(QapiSchema schema) {
        this.schema = schema;
    }

    public void register(String name, CommandHandler handler) {
        if (handlers.putIfAbsent(name, handler) != null) {
            throw new IllegalStateException("command registered twice: " + name);
        }
    }

    public boolean has(String name) {
        return handlers.containsKey(name);
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(handlers.keySet());
    }

    /** True if a client can run the command: it is in the schema and has a handler. */
    public boolean serves(String name) {
        return handlers.containsKey(name) && schema.hasCommand(name);
    }

    /**
     * Validates and runs a command. The caller has already checked {@link #serves}. Returns the
     * {@code return} value ({@code {}} when the handler returns null).
     */
    public Object execute(String name, Map<String, Object> args) throws QmpError {
        CommandHandler h = handlers.get(name);
        if (h == null) {
            throw new QmpError(QmpError.COMMAND_NOT_FOUND, "The command " + name + " has not been found");
        }
        return invoke(h, schema.parseArguments(name, args));
    }

    /** Runs a handler without schema validation (the caller validated, e.g. a command-line option). */
    public Object executeValidated(String name, Map<String, Object> args) throws QmpError {
        CommandHandler h = handlers.get(name);
        if (h == null) {
            throw new QmpError(QmpError.COMMAND_NOT_FOUND, "The command " + name + " has not been found");
        }
        return invoke(h, args);
    }

    private static Object invoke(CommandHandler h, Map<String, Object> args) {
        Object ret;
        try {
            ret = h.handle(args);
        } catch (EngineException e) {
            throw QmpError.generic(e.getMessage());
        }
        return ret == null ? new LinkedHashMap<String, Object>() : ret;
    }
}
