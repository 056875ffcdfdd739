package io.isthmus.engine.export.nbd;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.NetinetIn;
import io.isthmus.bindings.NetinetTcp;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysSocket;
import io.isthmus.engine.EngineException;
import io.isthmus.engine.loop.Completion;
import io.isthmus.engine.loop.IoThread;
import io.isthmus.engine.tls.Authz;
import io.isthmus.engine.tls.TlsCredentials;
import io.isthmus.engine.tls.TlsSession;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
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
 * copy-on-write list (read by handshakes on any IoThread). Memory: the listener's sockaddr scratch lives in a
 * shared arena freed on {@link #stop}. Native calls return {@code >= 0} or {@code -errno}.
 */
public final class NbdServer implements NbdExportTable {
    /** The int 1, for setsockopt; read-only, shared by all threads. */
    private static final MemorySegment INT_ONE = Arena.global().allocate(ValueLayout.JAVA_INT);

    static {
        INT_ONE.set(ValueLayout.JAVA_INT, 0, 1);
    }

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
    private final int listenFd;
    private final String unixPath;
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
    private boolean accepting;
    private long acceptOp = -1;
    private boolean closing;

    private final Completion acceptDone = this::onAccept;

    private NbdServer(IoThread listenerThread, int listenFd, String unixPath, int maxConnections,
            int handshakeMaxSeconds, TlsCredentials tlsCreds, Authz tlsAuthz) {
        this.listenerThread = listenerThread;
        this.listenFd = listenFd;
        this.unixPath = unixPath;
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
    public static NbdServer start(NbdAddress addr, IoThread listenerThread, int maxConnections,
            int handshakeMaxSeconds, TlsCredentials tlsCreds, Authz tlsAuthz) throws EngineException {
        int fd = switch (addr.kind()) {
            case UNIX -> listenUnix(addr.path());
            case INET -> listenInet(addr.host(), addr.port(), addr.ipv4(), addr.ipv6());
            case FD -> addr.fd();
        };
        NbdServer s = new NbdServer(listenerThread, fd, addr.kind() == NbdAddress.Kind.UNIX ? addr.path() : null,
                maxConnections, handshakeMaxSeconds, tlsCreds, tlsAuthz);
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
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = a.allocate(128);
            MemorySegment len = a.allocate(ValueLayout.JAVA_INT);
            len.set(ValueLayout.JAVA_INT, 0, 128);
            if (Posix.getsockname(listenFd, sa, len) < 0) {
                return -1;
            }
            short fam = sa.get(ValueLayout.JAVA_SHORT, 0);
            if (fam != SysSocket.AF_INET && fam != SysSocket.AF_INET6) {
                return -1;
            }
            return sa.get(Nbd.BE_SHORT, 2) & 0xFFFF;
        }
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
        if (closing || accepting) {
            return;
        }
        if (maxConnections > 0 && liveConnections >= maxConnections) {
            return; // resumes when a client leaves
        }
        accepting = true;
        acceptOp = listenerThread.accept(listenFd, SysSocket.SOCK_CLOEXEC, acceptDone, 0);
    }

    private void onAccept(int res, int flags, long tag) {
        accepting = false;
        acceptOp = -1;
        if (res < 0) {
            if (closing) {
                finishStopIfIdle();
                return;
            }
            if (res != -Errno.ECANCELED) {
                LOG.log(System.Logger.Level.WARNING, "NBD accept failed: " + Errno.message(res));
            }
            if (res == -9 || res == -88 || res == -22) {
                return; // EBADF, ENOTSOCK, EINVAL: not a listening socket; retrying would spin
            }
            armAccept();
            return;
        }
        if (closing) {
            Posix.close(res);
            finishStopIfIdle();
            return;
        }
        // Replies leave in one sendmsg each batch; Nagle would hold a reply back until the previous one is
        // acknowledged. QEMU disables it on NBD sockets too (qio_channel_set_delay). Fails harmlessly
        // (EOPNOTSUPP) on UNIX sockets.
        Posix.setsockopt(res, NetinetIn.IPPROTO_TCP, NetinetTcp.TCP_NODELAY, INT_ONE, 4);
        liveConnections++;
        NbdNegotiation n = new NbdNegotiation(this, listenerThread, res);
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
                if (closing) {
                    finishStopIfIdle();
                } else {
                    armAccept();
                }
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
            if (acceptOp != -1) {
                listenerThread.cancel(acceptOp);
            }
            for (Object c : connections) {
                if (c instanceof NbdNegotiation n) {
                    n.abort();
                } else if (c instanceof NbdConnection nc) {
                    nc.requestClose();
                }
            }
            finishStopIfIdle();
        });
        try {
            stopped.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "NBD server stop did not finish: " + e);
        }
    }

    private void finishStopIfIdle() {
        if (!closing || accepting || stopped.isDone()) {
            return;
        }
        Posix.close(listenFd);
        if (unixPath != null) {
            Posix.unlink(unixPath);
        }
        if (tlsCreds != null) {
            tlsCreds.release();
        }
        stopped.complete(null);
    }

    // =====================================================================================================
    // socket setup (control plane thread; plain blocking calls)

    private static int listenUnix(String path) throws EngineException {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        if (p.length >= 108) {
            throw new EngineException("UNIX socket path '" + path + "' is too long");
        }
        int fd = Posix.socket(SysSocket.AF_UNIX, SysSocket.SOCK_STREAM | SysSocket.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new EngineException("Failed to create Unix socket: " + Errno.message(fd));
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = a.allocate(110);
            sa.set(ValueLayout.JAVA_SHORT, 0, (short) SysSocket.AF_UNIX);
            MemorySegment.copy(p, 0, sa, ValueLayout.JAVA_BYTE, 2, p.length);
            Posix.unlink(path); // QEMU removes a stale socket file before binding
            int r = Posix.bind(fd, sa, 2 + p.length + 1);
            if (r < 0) {
                Posix.close(fd);
                throw new EngineException("Failed to bind socket to " + path + ": " + Errno.message(r));
            }
        }
        int r = Posix.listen(fd, SysSocket.SOMAXCONN);
        if (r < 0) {
            Posix.close(fd);
            throw new EngineException("Failed to listen on socket: " + Errno.message(r));
        }
        return fd;
    }

    private static int listenInet(String host, String port, boolean v4only, boolean v6only) throws EngineException {
        int portNum;
        try {
            portNum = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new EngineException("Failed to parse port '" + port + "'");
        }
        if (portNum < 0 || portNum > 65535) {
            throw new EngineException("Failed to parse port '" + port + "'");
        }
        InetAddress ia;
        try {
            ia = (host == null || host.isEmpty()) ? InetAddress.getByName("0.0.0.0") : InetAddress.getByName(host);
        } catch (java.net.UnknownHostException e) {
            throw new EngineException("address resolution failed for " + host + ":" + port + ": Name or service not known");
        }
        boolean v6 = ia instanceof Inet6Address;
        int fd = Posix.socket(v6 ? SysSocket.AF_INET6 : SysSocket.AF_INET,
                SysSocket.SOCK_STREAM | SysSocket.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new EngineException("Failed to create socket: " + Errno.message(fd));
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocate(ValueLayout.JAVA_INT);
            one.set(ValueLayout.JAVA_INT, 0, 1);
            Posix.setsockopt(fd, SysSocket.SOL_SOCKET, SysSocket.SO_REUSEADDR, one, 4);
            MemorySegment sa;
            int len;
            if (v6) {
                sa = a.allocate(28);
                sa.set(ValueLayout.JAVA_SHORT, 0, (short) SysSocket.AF_INET6);
                sa.set(Nbd.BE_SHORT, 2, (short) portNum);
                byte[] b = ia.getAddress();
                MemorySegment.copy(b, 0, sa, ValueLayout.JAVA_BYTE, 8, 16);
                len = 28;
            } else {
                sa = a.allocate(16);
                sa.set(ValueLayout.JAVA_SHORT, 0, (short) SysSocket.AF_INET);
                sa.set(Nbd.BE_SHORT, 2, (short) portNum);
                byte[] b = ia.getAddress();
                MemorySegment.copy(b, 0, sa, ValueLayout.JAVA_BYTE, 4, 4);
                len = 16;
            }
            int r = Posix.bind(fd, sa, len);
            if (r < 0) {
                Posix.close(fd);
                throw new EngineException("Failed to bind socket: " + Errno.message(r));
            }
        }
        int r = Posix.listen(fd, SysSocket.SOMAXCONN);
        if (r < 0) {
            Posix.close(fd);
            throw new EngineException("Failed to listen on socket: " + Errno.message(r));
        }
        return fd;
    }

    static final int IPPROTO_TCP = NetinetIn.IPPROTO_TCP;
}
