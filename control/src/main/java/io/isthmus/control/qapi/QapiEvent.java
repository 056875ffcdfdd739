package io.isthmus.control.qapi;

import java.util.List;

/** A QMP event of the schema; {@code argType} names the struct of its {@code data}. */
public record QapiEvent(String name, String argType, List<String> features) {}
