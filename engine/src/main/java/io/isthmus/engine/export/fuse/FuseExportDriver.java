package io.isthmus.engine.export.fuse;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockPerm;
import io.isthmus.engine.export.BlockExport;
import io.isthmus.engine.export.ExportArgs;
import io.isthmus.engine.export.ExportDriver;
import io.isthmus.engine.export.ExportOptions;
import io.isthmus.engine.export.NodeAccess;
import io.isthmus.engine.loop.IoThread;
import java.util.concurrent.Executor;

/**
 * The "fuse" row of the export-driver table. Permissions as QEMU's fuse_export_create: consistent read (+ write
 * when writable), plus RESIZE when the export is writable or growable (SETATTR size, growable writes), everything
 * shared, so that block_resize still works under the export (the kernel hears the new length). The list form of
 * {@code iothread} gives a queue per IoThread (QEMU 11's multi-threaded FUSE export).
 *
 * <p>Thread use: the control thread. {@code control} is the executor the exports' resizes and allocated-size
 * refreshes run on: the control thread (the daemon's control loop), where {@link NodeAccess#truncate} belongs.
 */
public final class FuseExportDriver implements ExportDriver<FuseExportOptions> {
    private final Executor control;

    /** @param control runs tasks on the control thread, in order (never on the calling thread) */
    public FuseExportDriver(Executor control) {
        this.control = control;
    }

    @Override
    public String type() {
        return "fuse";
    }

    @Override
    public boolean supportsMultipleIoThreads() {
        return true;
    }

    @Override
    public boolean supportsInactive() {
        return false;
    }

    @Override
    public FuseExportOptions parseOptions(ExportArgs args) {
        return FuseExportOptions.parse(args);
    }

    @Override
    public int permissions(ExportOptions common, FuseExportOptions options) {
        int p = ExportDriver.super.permissions(common, options);
        return common.writable() || options.growable() ? p | BlockPerm.RESIZE : p;
    }

    @Override
    public BlockExport create(ExportOptions common, FuseExportOptions options, NodeAccess node, IoThread[] iothreads)
            throws EngineException {
        return FuseExport.create(common, options, node, iothreads, control);
    }
}
