package io.isthmus.engine.export.nbd;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.export.BlockExport;
import io.isthmus.engine.export.ExportDriver;
import io.isthmus.engine.export.ExportOptions;
import io.isthmus.engine.export.NodeAccess;
import io.isthmus.engine.loop.IoThread;

/**
 * The "nbd" row of the export-driver table. Exports are served by the daemon's one NBD server
 * ({@link #setServer}); the list form of {@code iothread} spreads connections over several IoThreads (a
 * deliberate improvement on QEMU, which refuses multi-threaded NBD exports).
 */
public final class NbdExportDriver implements ExportDriver {
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
    public boolean forbidsResize() {
        return true;
    }

    @Override
    public BlockExport create(ExportOptions options, NodeAccess node, IoThread[] iothreads) throws EngineException {
        NbdServer s = server;
        if (s == null) {
            throw new EngineException("NBD server not running");
        }
        NbdExportOptions nbd = options.typeOptions() instanceof NbdExportOptions o ? o
                : new NbdExportOptions(null, null, null, false);
        NbdExport e = new NbdExport(s, options, node, iothreads, nbd);
        s.addExport(e);
        return e;
    }
}
