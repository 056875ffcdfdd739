package io.isthmus.bindings;

/** {@code netinet/tcp.h}: TCP-level socket options (level {@link NetinetIn#IPPROTO_TCP}). Constants only. */
public final class NetinetTcp {
    private NetinetTcp() {}

    public static final int TCP_NODELAY = 1, TCP_MAXSEG = 2, TCP_CORK = 3, TCP_KEEPIDLE = 4, TCP_KEEPINTVL = 5,
            TCP_KEEPCNT = 6, TCP_QUICKACK = 12, TCP_USER_TIMEOUT = 18;
}
