package io.isthmus.control.commands;

import io.isthmus.control.QmpError;
import java.util.Map;

/**
 * One QMP command's implementation. Runs on the control thread with arguments already validated
 * against the schema; returns the {@code return} value (null for commands without return data, which
 * reply {@code {}}), or throws {@link QmpError} (an {@code EngineException} becomes a GenericError).
 */
@FunctionalInterface
public interface CommandHandler {
    Object handle(Map<String, Object> args) throws QmpError;
}
