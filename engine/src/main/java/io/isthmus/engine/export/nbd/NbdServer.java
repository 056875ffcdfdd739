package io.isthmus.engine.export.nbd;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.loop.IoThread;
import io.isthmus.engine.net.Fds;
import io.isthmus.engine.net.ListeningSocket;
import io.isthmus.engine.net.RingAcceptor;
import io.isthmus.engine.net.SocketAddress;
import io.isthmus.engine.tls.Authz;
import io.isthmus.engine.tls.TlsCredentials;
import io.isthmus.engine.tls.TlsSession;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The NBD server: one per daemon (QEMU's nbd-server-start), a listening socket accepted on one IoThread, the
 * table of NBD exports by name, the connection limit and the handshake timeout.
 *
 * <p>Threads: constructed and stopped on the control plane; accepts and handshakes run on the listener
 * IoThread; each connection's transmission phase runs on an IoThread of its export. The export table is a
 * copy-on-write list (read by handshakes on any IoThread). The socket is a {@link ListeningSocket} accepted
 * through a {@link RingAcceptor} (io.isthmus.engine.net); no native memory of its own.
 */
public final class NbdServer implements NbdExportTable {
    private static final System.Logger LOG = System.getLogger(NbdServer.class.getName());
    public static final int DEFAULT_MAX_CONNECTIONS = 100;
    public static final int DEFAULT_HANDSHAKE_MAX_SECONDS = 10;

    /** Finds a bitmap an export publishes ({@link NbdBitmaps}: the block graph's, with QEMU's texts). */
    @FunctionalInterface
    public interface BitmapLookup {
        /** The bitmap {@code ref} names for an export of node {@code exportedNode}; throws with QEMU's text. */
        NbdBitmap find(String exportedNode, NbdExportOptions.BitmapRef ref) throws EngineException;
    }

    private final IoThread listenerThread;
    private final ListeningSocket listener;
    private final RingAcceptor acceptor;
    private final int maxConnections;
    private final long handshakeNanos;
    private final TlsCredentials tlsCreds;
    private final Authz tlsAuthz;
    private volatile BitmapLookup bitmapLookup = NbdBitmaps.NONE;
    private final CopyOnWriteArrayList<NbdExport> exports = new CopyOnWriteArrayList<>();
    private final Set<Object> connections = ConcurrentHashMap.newKeySet();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();

    // ---- listener-thread state
    private int liveConnections;
    private boolean closing;

    private NbdServer(IoThread listenerThread, ListeningSocket listener, int maxConnections,
            int handshakeMaxSeconds, TlsCredentials tlsCreds, Authz tlsAuthz) {
        this.listenerThread = listenerThread;
        this.listener = listener;
        this.acceptor = new RingAcceptor(listener, listenerThread, new RingAcceptor.Handler() {
            @Override
            public void accepted(int fd) {
                onAccepted(fd);
            }

            @Override
            public void closed() {
                onListenerClosed();
            }
        }, "NBD");
        this.maxConnections = maxConnections;
        this.handshakeNanos = TimeUnit.SECONDS.toNanos(handshakeMaxSeconds);
        this.tlsCreds = tlsCreds;
        this.tlsAuthz = tlsAuthz;
    }

    /**
     * Listens on {@code addr} and starts accepting on {@code listenerThread}.
     *
     * @param tlsCreds server credentials (a reference the server keeps until {@link #stop}), or null without TLS
     * @param tlsAuthz checked against the client certificate's DN (resolved at each check), or null
     * @throws EngineException with QEMU's text when the socket cannot be set up
     */
    public static NbdServer start(SocketAddress addr, IoThread listenerThread, int maxConnections,
            int handshakeMaxSeconds, TlsCredentials tlsCreds, Authz tlsAuthz) throws EngineException {
        NbdServer s = new NbdServer(listenerThread, ListeningSocket.open(addr), maxConnections, handshakeMaxSeconds,
                tlsCreds, tlsAuthz);
        listenerThread.execute(s::armAccept);
        return s;
    }

    public int maxConnections() {
        return maxConnections;
    }

    public boolean tlsRequired() {
        return tlsCreds != null;
    }

    /** A server TLS session for a client that sent NBD_OPT_STARTTLS (throws with QEMU's text if refused). */
    TlsSession newTlsSession() {
        return TlsSession.server(tlsCreds, tlsAuthz);
    }

    long handshakeNanos() {
        return handshakeNanos;
    }

    public BitmapLookup bitmapLookup() {
        return bitmapLookup;
    }

    public void setBitmapLookup(BitmapLookup l) {
        this.bitmapLookup = l;
    }

    /** The listening port (INET) for tests, or -1. */
    public int localPort() {
        return listener.localPort();
    }

    // =====================================================================================================
    // export table

    @Override
    public NbdExportInfo find(String name) {
        return findExport(name);
    }

    public NbdExport findExport(String name) {
        for (NbdExport e : exports) {
            if (e.name().equals(name)) {
                return e;
            }
        }
        return null;
    }

    @Override
    public List<? extends NbdExportInfo> list() {
        return exports;
    }

    /** Exports created on this server that are still alive (also those shutting down). */
    void addExport(NbdExport e) {
        exports.add(e);
    }

    void removeExportName(NbdExport e) {
        exports.remove(e);
    }

    // =====================================================================================================
    // accepting (listener thread)

    private void armAccept() {
        if (closing) {
            return;
        }
        if (maxConnections > 0 && liveConnections >= maxConnections) {
            return; // resumes when a client leaves
        }
        acceptor.arm();
    }

    private void onAccepted(int fd) {
        if (closing) {
            Fds.close(fd);
            return;
        }
        // Replies leave in one sendmsg each batch; Nagle would hold a reply back until the previous one is
        // acknowledged. QEMU disables it on NBD sockets too (qio_channel_set_delay).
        Fds.noDelay(fd);
        liveConnections++;
        NbdNegotiation n = new NbdNegotiation(this, listenerThread, fd);
        connections.add(n);
        n.start();
        armAccept();
    }

    /** A connection is gone (any thread): frees its slot under the limit. */
    void connectionClosed(Object c) {
        connections.remove(c);
        try {
            listenerThread.execute(() -> {
                liveConnections--;
                armAccept();
            });
        } catch (java.util.concurrent.RejectedExecutionException ignored) {
            // the listener thread is gone: the daemon is exiting
        }
    }

    /** A negotiation turned into a transmission-phase connection (same accounting slot). */
    void connectionHandedOver(Object from, Object to) {
        connections.add(to);
        connections.remove(from);
    }

    public int connectionCount() {
        return connections.size();
    }

    // =====================================================================================================
    // stop

    /**
     * Stops listening and drops every client still negotiating or connected (exports are shut down by the
     * caller through the export manager first). Waits until the listener is closed.
     */
    public void stop() {
        listenerThread.execute(() -> {
            closing = true;
            acceptor.close(); // closed() follows once the ring gave the pending accept back
            for (Object c : connections) {
                if (c instanceof NbdNegotiation n) {
                    n.abort();
                } else if (c instanceof NbdConnection nc) {
                    nc.requestClose();
                }
            }
        });
        try {
            stopped.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "NBD server stop did not finish: " + e);
        }
    }

    /** The listening socket is closed (and its UNIX path unlinked): the server is stopped. */
    private void onListenerClosed() {
        if (tlsCreds != null) {
            tlsCreds.release();
        }
        stopped.complete(null);
    }
}
