package io.isthmus.control.qapi;

import java.util.List;

/**
 * A QMP command of the schema. {@code argType} names a struct or union (the empty struct when the
 * command takes no arguments); {@code retType} the type of its return value (the empty struct
 * when it returns {@code {}}).
 */
public record QapiCommand(String name, String argType, String retType, boolean boxed,
                          boolean allowOob, boolean allowPreconfig, List<String> features) {}
