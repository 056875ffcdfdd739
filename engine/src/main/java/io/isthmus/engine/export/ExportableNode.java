package io.isthmus.engine.export;

import io.isthmus.engine.EngineException;

/** A block node as the export layer sees it before attaching to it. Control thread. */
public interface ExportableNode {
    String nodeName();

    boolean isReadOnly();

    /**
     * Attaches as a new user of the node (QEMU's blk_new for the export), taking the {@code perms} and sharing the
     * {@code shared} {@link io.isthmus.engine.block.BlockPerm} bits the export's driver asked for. With
     * {@code writethrough}, every write and write-zeroes submitted through the returned access is durable when it
     * completes (the block layer adds FUA), as QEMU's export disables the BlockBackend's write cache. Throws with
     * QEMU's permission-conflict text when refused.
     *
     * @param user the export id (for messages that name the user)
     */
    NodeAccess attach(String user, int perms, int shared, boolean writethrough) throws EngineException;
}
