package io.isthmus.engine.net;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.NetinetIn;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysSocket;
import io.isthmus.engine.EngineException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A listening stream socket: created, bound and put into the listening state from a {@link SocketAddress}
 * (UNIX path, TCP host and port, or an inherited descriptor taken as it is), with QEMU's error texts. Accept on
 * an IoThread's ring with {@link RingAcceptor}, or blocking with {@link #accept} (the control plane's threads).
 *
 * <p>A UNIX socket file this object created is unlinked when it is closed, as QEMU's NBD server and
 * vhost-user exports do (a stale file is unlinked before bind); an inherited descriptor's file is left alone.
 *
 * <p>Threads: opened on the control thread (plain blocking calls); {@link #accept} blocks its caller;
 * {@link #shutdown} from any thread wakes it; {@link #close} once no accept is in progress. Memory: only
 * temporaries of confined arenas. Native calls return {@code >= 0} or {@code -errno}; setup failures throw
 * {@link EngineException} with QEMU's message.
 */
public final class ListeningSocket implements AutoCloseable {
    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final int SUN_PATH_MAX = 108;

    private final int fd;
    private final String unlinkPath;
    private boolean closed;

    private ListeningSocket(int fd, String unlinkPath) {
        this.fd = fd;
        this.unlinkPath = unlinkPath;
    }

    /** Listens on {@code addr} with the largest backlog (an FD address is adopted as it is). */
    public static ListeningSocket open(SocketAddress addr) throws EngineException {
        return switch (addr.kind()) {
            case UNIX -> new ListeningSocket(listenUnix(addr.path(), SysSocket.SOMAXCONN), addr.path());
            case INET -> new ListeningSocket(listenInet(addr, SysSocket.SOMAXCONN), null);
            case FD -> new ListeningSocket(addr.fd(), null);
        };
    }

    /**
     * Takes an inherited descriptor and puts it into the listening state with {@code backlog} (QEMU's
     * {@code socket_listen} on an fd address): "Failed to listen on fd socket: ..." if it cannot.
     */
    public static ListeningSocket adopt(int fd, int backlog) throws EngineException {
        int r = Posix.listen(fd, backlog);
        if (r < 0) {
            throw new EngineException("Failed to listen on fd socket: " + Errno.message(r));
        }
        return new ListeningSocket(fd, null);
    }

    public int fd() {
        return fd;
    }

    /** Waits for a client (retrying EINTR and ECONNABORTED): the new descriptor (close-on-exec) or -errno. */
    public int accept() {
        int r;
        do {
            r = Posix.accept4(fd, MemorySegment.NULL, MemorySegment.NULL, SysSocket.SOCK_CLOEXEC);
        } while (r == -Errno.EINTR || r == -Errno.ECONNABORTED);
        return r;
    }

    /** Wakes a blocked {@link #accept} (it fails with EINVAL); any thread. */
    public void shutdown() {
        Posix.shutdown(fd, SysSocket.SHUT_RDWR);
    }

    /** The bound TCP port, or -1 (not an inet socket). */
    public int localPort() {
        return Fds.localPort(fd);
    }

    /** The bound address as QEMU prints it: {@code unix:PATH} or {@code tcp:HOST:PORT}. */
    public String describe() {
        return Fds.describe(fd);
    }

    /** Closes the socket (once) and unlinks the UNIX socket file it created. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Posix.close(fd);
        if (unlinkPath != null) {
            Posix.unlink(unlinkPath);
        }
    }

    // =====================================================================================================
    // setup

    private static int listenUnix(String path, int backlog) throws EngineException {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        if (p.length >= SUN_PATH_MAX) {
            throw new EngineException("UNIX socket path '" + path + "' is too long");
        }
        int fd = Posix.socket(SysSocket.AF_UNIX, SysSocket.SOCK_STREAM | SysSocket.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new EngineException("Failed to create Unix socket: " + Errno.message(fd));
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = a.allocate(2 + SUN_PATH_MAX);
            sa.set(ValueLayout.JAVA_SHORT, 0, (short) SysSocket.AF_UNIX);
            MemorySegment.copy(p, 0, sa, ValueLayout.JAVA_BYTE, 2, p.length);
            Posix.unlink(path); // QEMU removes a stale socket file before binding
            int r = Posix.bind(fd, sa, 2 + p.length + 1);
            if (r < 0) {
                Posix.close(fd);
                throw new EngineException("Failed to bind socket to " + path + ": " + Errno.message(r));
            }
        }
        int r = Posix.listen(fd, backlog);
        if (r < 0) {
            Posix.close(fd);
            throw new EngineException("Failed to listen on socket: " + Errno.message(r));
        }
        return fd;
    }

    /**
     * QEMU's {@code inet_listen_saddr}: the family from ipv4/ipv6, then each resolved address in turn until one
     * binds (IPV6_V6ONLY off for a dual-stack listener, retried on when the IPv4 port is taken).
     */
    private static int listenInet(SocketAddress addr, int backlog) throws EngineException {
        String port = addr.port();
        int portNum;
        try {
            portNum = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new EngineException("Failed to parse port '" + port + "'");
        }
        if (portNum < 0 || portNum > 65535) {
            throw new EngineException("Failed to parse port '" + port + "'");
        }
        int family = InetFamily.choose(addr.host(), addr.ipv4(), addr.ipv6());
        List<InetAddress> candidates = InetFamily.resolve(addr.host(), port, family);
        boolean v6only = InetFamily.v6only(addr.ipv4(), addr.ipv6());
        int lastErr = -Errno.EADDRINUSE;
        boolean created = false;
        for (InetAddress ia : candidates) {
            boolean v6 = ia instanceof Inet6Address;
            int fd = Posix.socket(v6 ? SysSocket.AF_INET6 : SysSocket.AF_INET,
                    SysSocket.SOCK_STREAM | SysSocket.SOCK_CLOEXEC, 0);
            if (fd < 0) {
                lastErr = fd; // e.g. no IPv6 in this kernel: try the next address
                continue;
            }
            created = true;
            int r = bindInet(fd, ia, portNum, v6, v6only);
            if (r == 0) {
                r = Posix.listen(fd, backlog);
                if (r == 0) {
                    return fd;
                }
                Posix.close(fd);
                if (r != -Errno.EADDRINUSE) {
                    throw new EngineException("Failed to listen on socket: " + Errno.message(r));
                }
            } else {
                Posix.close(fd);
                if (r != -Errno.EADDRINUSE) {
                    throw new EngineException("Failed to bind socket: " + Errno.message(r));
                }
            }
            lastErr = r;
        }
        throw new EngineException((created ? "Failed to find an available port: " : "Failed to create a socket: ")
                + Errno.message(lastErr));
    }

    private static int bindInet(int fd, InetAddress ia, int port, boolean v6, boolean v6only) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocate(ValueLayout.JAVA_INT);
            one.set(ValueLayout.JAVA_INT, 0, 1);
            Posix.setsockopt(fd, SysSocket.SOL_SOCKET, SysSocket.SO_REUSEADDR, one, 4);
            MemorySegment sa;
            byte[] b = ia.getAddress();
            if (v6) {
                sa = a.allocate(NetinetIn.sockaddr_in6);
                sa.set(ValueLayout.JAVA_SHORT, 0, (short) SysSocket.AF_INET6);
                sa.set(BE_SHORT, 2, (short) port);
                MemorySegment.copy(b, 0, sa, ValueLayout.JAVA_BYTE, 8, 16);
                if (ia instanceof Inet6Address i6 && i6.getScopeId() != 0) {
                    sa.set(ValueLayout.JAVA_INT, 24, i6.getScopeId());
                }
            } else {
                sa = a.allocate(NetinetIn.sockaddr_in);
                sa.set(ValueLayout.JAVA_SHORT, 0, (short) SysSocket.AF_INET);
                sa.set(BE_SHORT, 2, (short) port);
                MemorySegment.copy(b, 0, sa, ValueLayout.JAVA_BYTE, 4, 4);
            }
            MemorySegment flag = a.allocate(ValueLayout.JAVA_INT);
            boolean only = v6only;
            while (true) {
                if (v6) {
                    flag.set(ValueLayout.JAVA_INT, 0, only ? 1 : 0);
                    Posix.setsockopt(fd, NetinetIn.IPPROTO_IPV6, NetinetIn.IPV6_V6ONLY, flag, 4);
                }
                int r = Posix.bind(fd, sa, (int) sa.byteSize());
                if (r == -Errno.EADDRINUSE && v6 && !only) {
                    only = true; // the IPv4 port may be taken: QEMU retries IPv6 only
                    continue;
                }
                return r;
            }
        }
    }
}
