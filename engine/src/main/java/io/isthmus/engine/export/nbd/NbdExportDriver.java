package io.isthmus.engine.export.nbd;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockPerm;
import io.isthmus.engine.export.BlockExport;
import io.isthmus.engine.export.ExportArgs;
import io.isthmus.engine.export.ExportDriver;
import io.isthmus.engine.export.ExportOptions;
import io.isthmus.engine.export.NodeAccess;
import io.isthmus.engine.loop.IoThread;

/**
 * The "nbd" row of the export-driver table. Exports are served by the daemon's one NBD server
 * ({@link #setServer}); the list form of {@code iothread} spreads connections over several IoThreads (a
 * deliberate improvement on QEMU, which refuses multi-threaded NBD exports). Permissions as QEMU's
 * nbd_export_create: consistent read (+ write when writable), everything shared but resize (the size advertised
 * in the handshake must not change under the clients).
 */
public final class NbdExportDriver implements ExportDriver<NbdExportOptions> {
    private volatile NbdServer server;

    public void setServer(NbdServer s) {
        this.server = s;
    }

    public NbdServer server() {
        return server;
    }

    @Override
    public String type() {
        return "nbd";
    }

    @Override
    public boolean supportsMultipleIoThreads() {
        return true;
    }

    @Override
    public boolean supportsInactive() {
        return true;
    }

    @Override
    public NbdExportOptions parseOptions(ExportArgs args) {
        return NbdExportOptions.parse(args);
    }

    @Override
    public int sharedPermissions(ExportOptions common, NbdExportOptions options) {
        return BlockPerm.ALL & ~BlockPerm.RESIZE;
    }

    @Override
    public BlockExport create(ExportOptions common, NbdExportOptions options, NodeAccess node, IoThread[] iothreads)
            throws EngineException {
        NbdServer s = server;
        if (s == null) {
            throw new EngineException("NBD server not running");
        }
        NbdExport e = new NbdExport(s, common, node, iothreads, options);
        s.addExport(e);
        return e;
    }
}
