package io.isthmus.engine.export;

import io.isthmus.engine.EngineException;

/** A block node as the export layer sees it before attaching to it. */
public interface ExportableNode {
    String nodeName();

    boolean isReadOnly();

    /**
     * Takes the permissions an export needs: consistent read, plus write when {@code writable}; all shared
     * except resize when {@code noResize}. With {@code writethrough}, every write and write-zeroes submitted
     * through the returned access is durable when it completes (the block layer adds FUA), as QEMU's export
     * disables the BlockBackend's write cache. Throws with QEMU's permission-conflict text when refused.
     */
    NodeAccess attach(String user, boolean writable, boolean noResize, boolean writethrough) throws EngineException;
}
