package io.isthmus.engine.export.nbd;

/**
 * Where the NBD server listens: a UNIX socket path, a TCP host and port, or an already-listening inherited
 * file descriptor. Built by the control plane from SocketAddress / SocketAddressLegacy.
 */
public record NbdAddress(Kind kind, String path, String host, String port, int fd, boolean ipv4, boolean ipv6) {
    public enum Kind { UNIX, INET, FD }

    public static NbdAddress unix(String path) {
        return new NbdAddress(Kind.UNIX, path, null, null, -1, false, false);
    }

    public static NbdAddress inet(String host, String port) {
        return new NbdAddress(Kind.INET, null, host, port, -1, false, false);
    }

    public static NbdAddress inet(String host, String port, boolean ipv4, boolean ipv6) {
        return new NbdAddress(Kind.INET, null, host, port, -1, ipv4, ipv6);
    }

    public static NbdAddress fd(int fd) {
        return new NbdAddress(Kind.FD, null, null, null, fd, false, false);
    }
}
