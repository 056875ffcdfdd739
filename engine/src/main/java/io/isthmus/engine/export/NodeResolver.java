package io.isthmus.engine.export;

/** Finds block nodes by node-name (the block graph, or a test's in-memory table). */
@FunctionalInterface
public interface NodeResolver {
    /** The node, or null when there is none with that name. */
    ExportableNode find(String nodeName);
}
