package io.isthmus.engine.export;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.loop.IoThread;

/**
 * One export type (nbd, vhost-user-blk, fuse): a row of the export-driver table. {@link ExportManager#add} runs
 * the common checks (QEMU's blk_exp_add order), attaches to the node, then calls {@link #create}.
 */
public interface ExportDriver {
    /** The QAPI type name ("nbd", "vhost-user-blk", "fuse"). */
    String type();

    /** Whether the list form of {@code iothread} is accepted (connections/queues spread over threads). */
    boolean supportsMultipleIoThreads();

    boolean supportsInactive();

    /** Whether the export takes away RESIZE sharing from other users of the node (NBD does). */
    default boolean forbidsResize() {
        return false;
    }

    /**
     * Creates the export. The node is attached and the IoThreads resolved; throw with QEMU's text on a
     * driver-specific refusal (the caller detaches the node).
     */
    BlockExport create(ExportOptions options, NodeAccess node, IoThread[] iothreads) throws EngineException;
}
