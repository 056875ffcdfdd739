package io.isthmus.control.qmp;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.NetinetIn;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysSocket;
import io.isthmus.control.QmpError;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * {@code --chardev socket,fd=N,...}: a socket the daemon inherited from whoever started it (libvirt and
 * systemd-style socket activation do this). With {@code server=on} the descriptor is a bound socket
 * (UNIX or TCP) that is put into the listening state if it is not yet, and clients are accepted from it
 * one at a time; without it the descriptor is one connected client. Java's channels cannot adopt a raw
 * descriptor, so this chardev goes through the libc bindings; the path, host and port forms stay on NIO
 * (cheaper to start: no foreign-function set-up before the greeting).
 *
 * <p>Threads: created on the control thread; {@link #nextClient} blocks in {@code accept4} on the
 * monitor's reader thread; {@link #close} (any thread) shuts the listening socket down, which wakes that
 * accept, then closes it. Memory: none beyond temporaries of a confined arena during creation. Native
 * calls return {@code >= 0} or {@code -errno}.
 */
public final class FdSocketChardev extends Chardev {
    private final int listenFd;
    private ClientConnection pending;
    private volatile boolean closed;
    private int acceptsInProgress;
    private boolean fdClosed;

    private FdSocketChardev(String id, int listenFd, ClientConnection pending) {
        super(id);
        this.listenFd = listenFd;
        this.pending = pending;
    }

    /**
     * Opens the chardev on descriptor {@code fdText}, with QEMU's checks and messages: a number
     * ("Unable to parse FD number X"), a socket ("File descriptor 'X' is not a socket"), listening.
     */
    static FdSocketChardev open(String id, String fdText, boolean server, boolean wait, Consumer<String> info)
            throws QmpError {
        int fd = parseFd(fdText);
        if (!isSocket(fd)) {
            throw QmpError.generic("File descriptor '" + fdText + "' is not a socket");
        }
        if (!server) {
            return new FdSocketChardev(id, -1, new FdConnection(fd));
        }
        int r = Posix.listen(fd, 1);
        if (r < 0) {
            throw QmpError.generic("Failed to listen on fd socket: " + Errno.message(-r));
        }
        FdSocketChardev c = new FdSocketChardev(id, fd, null);
        if (wait) {
            info.accept("info: QEMU waiting for connection on: disconnected:" + describe(fd) + ",server=on");
            int conn = c.accept();
            if (conn < 0) {
                c.close();
                throw QmpError.generic("Failed to accept connection: " + Errno.message(-conn));
            }
            c.pending = new FdConnection(conn);
        }
        return c;
    }

    /**
     * QEMU's qemu_parse_fd (strtol, base 10, the whole text): "Unable to parse FD number X" otherwise.
     * A negative or too large number parses but names no socket (-1).
     */
    private static int parseFd(String text) throws QmpError {
        if (!FD_NUMBER.matcher(text).matches()) {
            throw QmpError.generic("Unable to parse FD number " + text);
        }
        try {
            long v = Long.parseLong(text.strip());
            return v < 0 || v > Integer.MAX_VALUE ? -1 : (int) v;
        } catch (NumberFormatException e) {
            throw QmpError.generic("Unable to parse FD number " + text); // out of long's range: ERANGE
        }
    }

    private static final java.util.regex.Pattern FD_NUMBER = java.util.regex.Pattern.compile("\\s*[+-]?\\d+");

    private static boolean isSocket(int fd) {
        if (fd < 0) {
            return false;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment type = a.allocate(ValueLayout.JAVA_INT);
            MemorySegment len = a.allocate(ValueLayout.JAVA_INT);
            len.set(ValueLayout.JAVA_INT, 0, 4);
            return Posix.getsockopt(fd, SysSocket.SOL_SOCKET, SysSocket.SO_TYPE, type, len) == 0;
        }
    }

    /** The bound address as QEMU prints it: {@code unix:PATH} or {@code tcp:HOST:PORT}. */
    static String describe(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment addr = a.allocate(SysSocket.sockaddr_storage);
            MemorySegment len = a.allocate(ValueLayout.JAVA_INT);
            len.set(ValueLayout.JAVA_INT, 0, (int) SysSocket.sockaddr_storage.byteSize());
            if (Posix.getsockname(fd, addr, len) < 0) {
                return "fd:" + fd;
            }
            int family = Short.toUnsignedInt(addr.get(ValueLayout.JAVA_SHORT, 0));
            int addrLen = len.get(ValueLayout.JAVA_INT, 0);
            ValueLayout.OfShort port = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
            switch (family) {
                case SysSocket.AF_UNIX -> {
                    int pathLen = Math.max(0, addrLen - 2);
                    byte[] path = new byte[pathLen];
                    MemorySegment.copy(addr, ValueLayout.JAVA_BYTE, 2, path, 0, pathLen);
                    int end = 0;
                    while (end < pathLen && (path[end] != 0 || end == 0)) {
                        end++;
                    }
                    return "unix:" + new String(path, 0, end, StandardCharsets.UTF_8).replace('\0', '@');
                }
                case SysSocket.AF_INET, SysSocket.AF_INET6 -> {
                    boolean v6 = family == SysSocket.AF_INET6;
                    var layout = v6 ? NetinetIn.sockaddr_in6 : NetinetIn.sockaddr_in;
                    long portOff = layout.byteOffset(PathElement.groupElement(v6 ? "sin6_port" : "sin_port"));
                    long ipOff = layout.byteOffset(PathElement.groupElement(v6 ? "sin6_addr" : "sin_addr"));
                    byte[] ip = new byte[v6 ? 16 : 4];
                    MemorySegment.copy(addr, ValueLayout.JAVA_BYTE, ipOff, ip, 0, ip.length);
                    int p = Short.toUnsignedInt(addr.get(port, portOff));
                    String host;
                    try {
                        host = InetAddress.getByAddress(ip).getHostAddress();
                    } catch (UnknownHostException e) {
                        host = "?";
                    }
                    return "tcp:" + (v6 ? "[" + host + "]" : host) + ":" + p;
                }
                default -> {
                    return "fd:" + fd;
                }
            }
        }
    }

    private int accept() {
        synchronized (this) {
            if (closed) {
                return -Errno.EINVAL;
            }
            acceptsInProgress++;
        }
        try {
            int r;
            do {
                r = Posix.accept4(listenFd, MemorySegment.NULL, MemorySegment.NULL, SysSocket.SOCK_CLOEXEC);
            } while (r == -Errno.EINTR || r == -Errno.ECONNABORTED);
            return r;
        } finally {
            synchronized (this) {
                acceptsInProgress--;
            }
            closeFdIfIdle();
        }
    }

    @Override
    public ClientConnection nextClient() throws java.io.IOException {
        synchronized (this) {
            if (pending != null) {
                ClientConnection c = pending;
                pending = null;
                return c;
            }
        }
        if (listenFd < 0 || closed) {
            return null;
        }
        int conn = accept();
        if (conn < 0) {
            if (closed) {
                return null;
            }
            throw new java.io.IOException(Errno.message(-conn));
        }
        return new FdConnection(conn);
    }

    @Override
    public void close() {
        ClientConnection p;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            p = pending;
            pending = null;
        }
        if (listenFd >= 0) {
            Posix.shutdown(listenFd, SysSocket.SHUT_RDWR); // wakes a blocked accept4 (EINVAL)
            closeFdIfIdle();
        }
        if (p != null) {
            p.close();
        }
    }

    private void closeFdIfIdle() {
        synchronized (this) {
            if (!closed || acceptsInProgress > 0 || fdClosed) {
                return;
            }
            fdClosed = true;
        }
        Posix.close(listenFd);
    }
}
