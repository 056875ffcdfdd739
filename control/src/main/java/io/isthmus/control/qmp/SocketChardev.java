package io.isthmus.control.qmp;

import io.isthmus.control.QmpError;
import io.isthmus.engine.EngineException;
import io.isthmus.engine.net.InetFamily;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code --chardev socket,...}: a listening UNIX ({@code path}) or TCP ({@code host}, {@code port})
 * socket with {@code server=on}, or one outgoing connection without it. With {@code server=on} and
 * without {@code wait=off}, creation blocks until the first client connects, as QEMU does.
 *
 * <p>The listening socket is left in place at exit (QSD 7.2 does not unlink it either); a stale socket
 * file is unlinked before bind.
 */
public final class SocketChardev extends Chardev {
    private final ServerSocketChannel listener;
    private ClientConnection pending;
    private volatile boolean closed;

    private SocketChardev(String id, ServerSocketChannel listener, ClientConnection pending) {
        super(id);
        this.listener = listener;
        this.pending = pending;
    }

    /** Opens the socket described by QemuOpts-style options (values are strings). */
    public static Chardev open(String id, Map<String, String> opts, Consumer<String> info) throws QmpError {
        boolean server = QemuBool.parse(opts, "server", false);
        boolean wait = QemuBool.parse(opts, "wait", true);
        String path = opts.get("path");
        String host = opts.get("host");
        String port = opts.get("port");
        String fd = opts.get("fd");
        if ((path != null ? 1 : 0) + (fd != null ? 1 : 0) + (host != null ? 1 : 0) > 1) {
            throw QmpError.generic("None or one of 'path', 'fd' or 'host' option required.");
        }
        if (!server && opts.containsKey("wait")) {
            throw QmpError.generic("'wait' option is incompatible with socket in client connect mode");
        }
        if (fd == null && path == null && host == null) {
            // QEMU 7.2 takes a socket with neither path nor host as one on an empty fd name: a client fails to
            // parse it; a server starts and never has a client
            if (!server) {
                throw QmpError.generic("Unable to parse FD number ");
            }
            return new Unreachable(id);
        }
        if (fd != null) {
            return FdSocketChardev.open(id, fd, server, wait, info);
        }
        SocketAddress addr;
        String describe;
        StandardProtocolFamily family;
        if (path != null) {
            addr = UnixDomainSocketAddress.of(path);
            describe = "unix:" + path;
            family = StandardProtocolFamily.UNIX;
        } else {
            if (port == null) {
                throw QmpError.generic("chardev: socket: no port given");
            }
            int p;
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw QmpError.generic("Parameter 'port' expects a number");
            }
            Boolean ipv4 = opts.containsKey("ipv4") ? QemuBool.parse(opts, "ipv4", false) : null;
            Boolean ipv6 = opts.containsKey("ipv6") ? QemuBool.parse(opts, "ipv6", false) : null;
            java.net.InetAddress ia;
            try {
                // QEMU's family matrix for ipv4/ipv6, then the first address of that family
                ia = InetFamily.resolve(host, port, InetFamily.choose(host, ipv4, ipv6)).get(0);
            } catch (EngineException e) {
                throw QmpError.generic(e.getMessage());
            }
            InetSocketAddress inet = new InetSocketAddress(ia, p);
            addr = inet;
            describe = null; // from the bound address, as QEMU prints it
            family = ia instanceof java.net.Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
        }
        if (!server) {
            try {
                SocketChannel ch = SocketChannel.open(addr);
                return new SocketChardev(id, null, new ChannelConnection(ch));
            } catch (IOException e) {
                throw QmpError.generic("Failed to connect to '" + (path != null ? path : host + ":" + port)
                        + "': " + strerror(e));
            }
        }
        ServerSocketChannel ssc;
        try {
            ssc = ServerSocketChannel.open(family);
            if (family != StandardProtocolFamily.UNIX) {
                ssc.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
            }
        } catch (IOException e) {
            throw QmpError.generic("Failed to create socket: " + strerror(e));
        }
        try {
            if (path != null) {
                Path p = Path.of(path);
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    closeQuietly(ssc);
                    throw QmpError.generic("Failed to unlink socket " + path + ": " + strerror(e));
                }
            }
            ssc.bind(addr, 1);
        } catch (IOException e) {
            closeQuietly(ssc);
            if (path == null && e instanceof java.net.BindException && "Address already in use".equals(strerror(e))) {
                // QEMU's inet_listen_saddr tries the next address and then gives up with this text
                throw QmpError.generic("Failed to find an available port: Address already in use");
            }
            throw QmpError.generic(path != null ? "Failed to bind socket to " + path + ": " + strerror(e)
                    : "Failed to bind socket: " + strerror(e));
        }
        SocketChardev c = new SocketChardev(id, ssc, null);
        if (describe == null) {
            describe = describeInet(ssc);
        }
        if (wait) {
            info.accept("info: QEMU waiting for connection on: disconnected:" + describe + ",server=on");
            try {
                c.pending = new ChannelConnection(ssc.accept());
            } catch (IOException e) {
                c.close();
                throw QmpError.generic("Failed to accept connection: " + strerror(e));
            }
        }
        return c;
    }

    /** {@code tcp:HOST:PORT} of a bound TCP listener (numeric host, IPv6 in brackets), as QEMU names it. */
    private static String describeInet(ServerSocketChannel ssc) {
        try {
            InetSocketAddress a = (InetSocketAddress) ssc.getLocalAddress();
            String h = a.getAddress().getHostAddress();
            if (a.getAddress() instanceof java.net.Inet6Address) {
                int scope = h.indexOf('%');
                h = "[" + (scope >= 0 ? h.substring(0, scope) : h) + "]";
            }
            return "tcp:" + h + ":" + a.getPort();
        } catch (IOException | ClassCastException e) {
            return "tcp:?";
        }
    }

    /** The bound address (for TCP with port 0: the port the kernel chose). */
    public SocketAddress localAddress() throws IOException {
        return listener.getLocalAddress();
    }

    @Override
    public ClientConnection nextClient() throws IOException {
        synchronized (this) {
            if (pending != null) {
                ClientConnection c = pending;
                pending = null;
                return c;
            }
        }
        if (listener == null || closed) {
            return null;
        }
        try {
            return new ChannelConnection(listener.accept());
        } catch (ClosedChannelException e) {
            return null;
        }
    }

    @Override
    public void close() {
        closed = true;
        if (listener != null) {
            closeQuietly(listener);
        }
        ClientConnection p;
        synchronized (this) {
            p = pending;
            pending = null;
        }
        if (p != null) {
            p.close();
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // nothing to report while closing
        }
    }

    static String strerror(IOException e) {
        String m = e.getMessage();
        if (e instanceof java.nio.file.NoSuchFileException || m == null) {
            return "No such file or directory";
        }
        int i = m.lastIndexOf(": ");
        return i >= 0 ? m.substring(i + 2) : m;
    }

    /** A server socket chardev without an address (QSD 7.2 accepts it): no client ever arrives. */
    private static final class Unreachable extends Chardev {
        private final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);

        Unreachable(String id) {
            super(id);
        }

        @Override
        public ClientConnection nextClient() {
            try {
                closed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        }

        @Override
        public void close() {
            closed.countDown();
        }
    }
}
