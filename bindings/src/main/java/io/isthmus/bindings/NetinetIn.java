package io.isthmus.bindings;

import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.StructLayout;

/**
 * {@code netinet/in.h}: IPv4/IPv6 socket addresses and protocol numbers. Port and address fields are in network
 * byte order (big-endian) as C has them; read them with a big-endian layout. Layouts only.
 */
public final class NetinetIn {
    private NetinetIn() {}

    public static final int IPPROTO_IP = 0, IPPROTO_TCP = 6, IPPROTO_UDP = 17, IPPROTO_IPV6 = 41;
    public static final int INADDR_ANY = 0, INADDR_LOOPBACK = 0x7f000001;
    public static final int IPV6_V6ONLY = 26;

    /** struct in_addr (4 bytes, network order). */
    public static final StructLayout in_addr = structLayout(
            JAVA_INT.withName("s_addr")
    ).withName("in_addr");

    /** struct sockaddr_in (16 bytes). */
    public static final StructLayout sockaddr_in = structLayout(
            JAVA_SHORT.withName("sin_family"),
            JAVA_SHORT.withName("sin_port"),
            in_addr.withName("sin_addr"),
            sequenceLayout(8, JAVA_BYTE).withName("sin_zero")
    ).withName("sockaddr_in");

    /** struct in6_addr (16 bytes): a union in glibc, declared by its storage. */
    public static final StructLayout in6_addr = structLayout(
            sequenceLayout(16, JAVA_BYTE).withName("__in6_u")
    ).withName("in6_addr");

    /** struct sockaddr_in6 (28 bytes). */
    public static final StructLayout sockaddr_in6 = structLayout(
            JAVA_SHORT.withName("sin6_family"),
            JAVA_SHORT.withName("sin6_port"),
            JAVA_INT.withName("sin6_flowinfo"),
            in6_addr.withName("sin6_addr"),
            JAVA_INT.withName("sin6_scope_id")
    ).withName("sockaddr_in6");
}
