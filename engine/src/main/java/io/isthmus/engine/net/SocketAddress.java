package io.isthmus.engine.net;

/**
 * Where a server listens (or a client connects): a UNIX socket path, a TCP host and port, or an inherited file
 * descriptor. The transport-neutral form of QAPI's SocketAddress / SocketAddressLegacy, built by the control
 * plane and used by the NBD server, vhost-user-blk and the control plane's socket chardevs.
 *
 * <p>{@code ipv4} and {@code ipv6} are QAPI's optional booleans: null when absent (absent and false differ:
 * see {@link InetFamily#choose}). Immutable; any thread.
 */
public record SocketAddress(Kind kind, String path, String host, String port, int fd, Boolean ipv4, Boolean ipv6) {
    public enum Kind { UNIX, INET, FD }

    public static SocketAddress unix(String path) {
        return new SocketAddress(Kind.UNIX, path, null, null, -1, null, null);
    }

    public static SocketAddress inet(String host, String port) {
        return new SocketAddress(Kind.INET, null, host, port, -1, null, null);
    }

    /** An inet address with QAPI's optional {@code ipv4}/{@code ipv6} members (null = absent). */
    public static SocketAddress inet(String host, String port, Boolean ipv4, Boolean ipv6) {
        return new SocketAddress(Kind.INET, null, host, port, -1, ipv4, ipv6);
    }

    public static SocketAddress fd(int fd) {
        return new SocketAddress(Kind.FD, null, null, null, fd, null, null);
    }
}
