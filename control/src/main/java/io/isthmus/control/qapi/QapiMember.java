package io.isthmus.control.qapi;

import java.util.List;

/** A member of a struct or union, or a branch of an alternate. */
public record QapiMember(String name, String type, boolean optional, List<String> features) {}
