package io.isthmus.engine.export.nbd;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.export.BlockExport;
import io.isthmus.engine.export.ExportOptions;
import io.isthmus.engine.export.NodeAccess;
import io.isthmus.engine.loop.IoThread;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One NBD export: the name clients ask for, what the handshake advertises (size, flags, block sizes, contexts)
 * and the connections serving it. Its connections are spread round-robin over the export's IoThreads.
 *
 * <p>Threads: created and shut down on the control plane; {@link #nextIoThread} and the client set are safe
 * from any thread; the advertised facts are immutable.
 */
public final class NbdExport extends BlockExport implements NbdExportInfo {
    private final NbdServer server;
    private final String name;
    private final String description;
    private final long size;
    private final int flags;
    private final boolean allocationDepth;
    private final List<String> bitmapNames;
    private final NbdBitmap[] bitmaps;
    private final Set<NbdConnection> clients = ConcurrentHashMap.newKeySet();
    private final AtomicInteger nextThread = new AtomicInteger();

    NbdExport(NbdServer server, ExportOptions o, NodeAccess node, IoThread[] threads, NbdExportOptions nbd)
            throws EngineException {
        super(o, node, threads);
        this.server = server;
        String n = nbd.name() != null ? nbd.name() : o.nodeName();
        if (n.length() > Nbd.MAX_STRING_SIZE) {
            throw new EngineException("export name '" + n + "' too long");
        }
        if (nbd.description() != null && nbd.description().length() > Nbd.MAX_STRING_SIZE) {
            throw new EngineException("description '" + nbd.description() + "' too long");
        }
        if (server.findExport(n) != null) {
            throw new EngineException("NBD server already has export named '" + n + "'");
        }
        this.name = n;
        this.description = nbd.description();
        long len = node.length();
        if (len < 0) {
            throw new EngineException("Failed to determine the NBD export's length");
        }
        this.size = len & ~511L;
        int f = Nbd.FLAG_HAS_FLAGS | Nbd.FLAG_SEND_FLUSH | Nbd.FLAG_SEND_FUA | Nbd.FLAG_SEND_CACHE;
        if (server.maxConnections() != 1) {
            f |= Nbd.FLAG_CAN_MULTI_CONN;
        }
        if (o.writable()) {
            f |= Nbd.FLAG_SEND_TRIM | Nbd.FLAG_SEND_WRITE_ZEROES | Nbd.FLAG_SEND_FAST_ZERO;
        } else {
            f |= Nbd.FLAG_READ_ONLY;
        }
        this.flags = f;
        this.allocationDepth = nbd.allocationDepth();
        List<NbdExportOptions.BitmapRef> refs = nbd.bitmaps() == null ? List.of() : nbd.bitmaps();
        List<String> names = new ArrayList<>();
        NbdBitmap[] bms = new NbdBitmap[refs.size()];
        int taken = 0;
        try {
            for (NbdExportOptions.BitmapRef ref : refs) {
                NbdBitmap bm = server.bitmapLookup().find(node.nodeName(), ref);
                if (bm.isEnabled() && !o.writable() && !node.isReadOnly()) {
                    throw new EngineException("Enabled bitmap '" + ref.name() + "' incompatible with readonly export");
                }
                if (bm.isInconsistent()) {
                    throw new EngineException("Bitmap '" + ref.name() + "' is inconsistent and cannot be used");
                }
                if (!bm.setBusy(true)) {
                    throw new EngineException("Bitmap '" + ref.name()
                            + "' is currently in use by another operation and cannot be used");
                }
                bms[taken++] = bm;
                names.add(bm.name());
            }
        } catch (RuntimeException e) {
            for (int i = 0; i < taken; i++) {
                bms[i].setBusy(false);
            }
            throw e;
        }
        this.bitmaps = bms;
        this.bitmapNames = List.copyOf(names);
    }

    // ---- NbdExportInfo

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int flags() {
        return flags;
    }

    @Override
    public int requestAlignment() {
        return Math.max(1, node().requestAlignment());
    }

    @Override
    public int maxTransfer() {
        int m = node().maxTransfer();
        return m <= 0 ? Nbd.MAX_BUFFER_SIZE : Math.min(m, Nbd.MAX_BUFFER_SIZE);
    }

    @Override
    public boolean allocationDepth() {
        return allocationDepth;
    }

    @Override
    public List<String> bitmapNames() {
        return bitmapNames;
    }

    NbdBitmap bitmap(int i) {
        return bitmaps[i];
    }

    // ---- connections

    /** The IoThread the next connection is served on (round-robin over the export's list). */
    IoThread nextIoThread() {
        IoThread[] t = iothreads();
        return t[Math.floorMod(nextThread.getAndIncrement(), t.length)];
    }

    /**
     * A client entered transmission on this export (its IoThread): it holds a reference until it is closed. False
     * when the export is shutting down; otherwise the client is in the set {@link #requestShutdown} closes.
     */
    boolean addClient(NbdConnection c) {
        return admitClient(() -> clients.add(c));
    }

    void removeClient(NbdConnection c) {
        if (clients.remove(c)) {
            unref();
        }
    }

    public int clientCount() {
        return clients.size();
    }

    @Override
    protected void requestShutdown() {
        server.removeExportName(this);
        for (NbdConnection c : clients) {
            c.requestClose();
        }
    }

    @Override
    protected void delete() {
        for (NbdBitmap bm : bitmaps) {
            bm.setBusy(false);
        }
    }
}
