package io.isthmus.engine.export;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockPerm;
import io.isthmus.engine.loop.IoThread;

/**
 * One export type (nbd, vhost-user-blk, fuse): a row of the export-driver table (QEMU's BlockExportDriver).
 * {@link ExportManager#add} runs the common checks (QEMU's blk_exp_add order), has the driver read its options,
 * attaches to the node with the permissions the driver asks for, then calls {@link #create}.
 *
 * @param <O> the type's own options (the members of its branch of {@code BlockExportOptions})
 */
public interface ExportDriver<O> {
    /** The QAPI type name ("nbd", "vhost-user-blk", "fuse"). */
    String type();

    /** Whether the list form of {@code iothread} is accepted (connections/queues spread over threads). */
    boolean supportsMultipleIoThreads();

    boolean supportsInactive();

    /**
     * Reads the type's members from a validated block-export-add (which also holds the common members). Only
     * converts: refusals of values belong in {@link #create}, where QEMU's drivers make them.
     */
    O parseOptions(ExportArgs args) throws EngineException;

    /**
     * The {@link BlockPerm} bits the export takes on its node. QEMU's common part: consistent read, plus write when
     * writable; a driver adds what it needs (a growable FUSE export: resize).
     */
    default int permissions(ExportOptions common, O options) {
        return BlockPerm.CONSISTENT_READ | (common.writable() ? BlockPerm.WRITE : 0);
    }

    /**
     * The {@link BlockPerm} bits other users of the node keep while the export exists. QEMU's common part shares
     * everything; a driver takes away what it cannot live with (NBD: resize).
     */
    default int sharedPermissions(ExportOptions common, O options) {
        return BlockPerm.ALL;
    }

    /**
     * Creates the export. The node is attached and the IoThreads resolved; throw with QEMU's text on a
     * driver-specific refusal (the caller detaches the node).
     */
    BlockExport create(ExportOptions common, O options, NodeAccess node, IoThread[] iothreads)
            throws EngineException;
}
