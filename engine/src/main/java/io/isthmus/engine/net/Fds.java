package io.isthmus.engine.net;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Fcntl;
import io.isthmus.bindings.NetinetIn;
import io.isthmus.bindings.NetinetTcp;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysSocket;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Plain blocking calls on file descriptors for the control plane's threads (socket chardevs on inherited
 * descriptors, monitor connections, the daemonizer), so that the control plane needs no bindings: socket
 * checks, read/send with EINTR retried, shutdown/close, address descriptions in QEMU's words, and
 * redirecting standard descriptors. Never called on an IoThread (these calls block).
 *
 * <p>Memory: only what the caller passes, or temporaries of confined arenas. Returns: {@code >= 0} or
 * {@code -errno}; {@link #message} turns an errno into strerror's text.
 */
public final class Fds {
    private Fds() {}

    private static final MemorySegment INT_ONE = Arena.global().allocate(ValueLayout.JAVA_INT);

    static {
        INT_ONE.set(ValueLayout.JAVA_INT, 0, 1);
    }

    /** strerror's text for {@code errno} (either sign). */
    public static String message(long errno) {
        return Errno.message((int) errno);
    }

    /** QEMU's fd_is_socket: getsockopt(SO_TYPE) succeeds. */
    public static boolean isSocket(int fd) {
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

    /** read(2) into {@code buf[0, len)}, EINTR retried: bytes read, 0 at end of file, or -errno. */
    public static long read(int fd, MemorySegment buf, long len) {
        long n;
        do {
            n = Posix.read(fd, buf, len);
        } while (n == -Errno.EINTR);
        return n;
    }

    /** send(2) without SIGPIPE from {@code buf[0, len)}, EINTR retried: bytes sent or -errno. */
    public static long send(int fd, MemorySegment buf, long len) {
        long n;
        do {
            n = Posix.send(fd, buf, len, SysSocket.MSG_NOSIGNAL);
        } while (n == -Errno.EINTR);
        return n;
    }

    /** Shuts both directions down (wakes a blocked read, write or accept on another thread). */
    public static int shutdown(int fd) {
        return Posix.shutdown(fd, SysSocket.SHUT_RDWR);
    }

    public static int close(int fd) {
        return Posix.close(fd);
    }

    /** Disables Nagle on a TCP socket (replies leave in one send each); fails harmlessly on UNIX sockets. */
    public static void noDelay(int fd) {
        Posix.setsockopt(fd, NetinetIn.IPPROTO_TCP, NetinetTcp.TCP_NODELAY, INT_ONE, 4);
    }

    /**
     * Points each of {@code targets} (e.g. 1 and 2) at /dev/null: the daemonizer's child lets go of its
     * parent's pipes. Returns 0 or -errno (of the open).
     */
    public static int redirectToDevNull(int... targets) {
        int devnull = Posix.open("/dev/null", Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0);
        if (devnull < 0) {
            return devnull;
        }
        for (int t : targets) {
            Posix.dup2(devnull, t);
        }
        Posix.close(devnull);
        return 0;
    }

    /** A second descriptor for {@code fd}'s open file (the daemonizer keeps its readiness pipe apart). >= 0 or -errno. */
    public static int dup(int fd) {
        return Posix.dup(fd);
    }

    /** Writes up to {@code len} bytes of {@code buf} (blocking). Returns the count written or -errno. */
    public static long write(int fd, MemorySegment buf, long len) {
        return Posix.write(fd, buf, len);
    }

    /** Makes a close-on-exec pipe: {@code fds} receives {read end, write end}. Returns 0 or -errno. */
    public static int pipe(int[] fds) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment two = a.allocate(ValueLayout.JAVA_INT, 2);
            int r = Posix.pipe2(two, Fcntl.O_CLOEXEC);
            if (r < 0) {
                return r;
            }
            fds[0] = two.getAtIndex(ValueLayout.JAVA_INT, 0);
            fds[1] = two.getAtIndex(ValueLayout.JAVA_INT, 1);
            return 0;
        }
    }

    /** Changes the process's working directory (the daemonizer's {@code chdir /}). Returns 0 or -errno. */
    public static int chdir(String path) {
        return Posix.chdir(path);
    }

    /** The bound TCP port of a socket, or -1. */
    public static int localPort(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = a.allocate(SysSocket.sockaddr_storage);
            MemorySegment len = a.allocate(ValueLayout.JAVA_INT);
            len.set(ValueLayout.JAVA_INT, 0, (int) sa.byteSize());
            if (Posix.getsockname(fd, sa, len) < 0) {
                return -1;
            }
            short fam = sa.get(ValueLayout.JAVA_SHORT, 0);
            if (fam != SysSocket.AF_INET && fam != SysSocket.AF_INET6) {
                return -1;
            }
            return sa.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 2) & 0xFFFF;
        }
    }

    /** The bound address as QEMU prints it: {@code unix:PATH}, {@code tcp:HOST:PORT}, else {@code fd:N}. */
    public static String describe(int fd) {
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
}
