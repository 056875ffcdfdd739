package io.isthmus.engine.net;

import io.isthmus.bindings.SysSocket;
import io.isthmus.engine.EngineException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * The address family an inet address asks for, and the addresses a listener tries, as QEMU's
 * {@code inet_ai_family_from_address} and {@code inet_listen_saddr} (util/qemu-sockets.c) decide them:
 *
 * <pre>
 *   ipv4  ipv6   family           IPV6_V6ONLY on an IPv6 socket
 *    -     -     any (UNSPEC)     0 (one socket takes both)
 *    -     f     INET             -
 *    -     t     INET6            1
 *    f     -     INET6            1
 *    f     f     error: "Cannot disable IPv4 and IPv6 at same time"
 *    f     t     INET6            1
 *    t     -     INET             -
 *    t     f     INET             -
 *    t     t     INET6 for an empty host, else any   0
 * </pre>
 *
 * Resolution goes through the JDK's resolver (getaddrinfo underneath) filtered to the family, with
 * getaddrinfo's texts where it refuses ("Address family for hostname not supported" for a numeric address of
 * the other family, "Name or service not known" for a name without an address of the family). Pure logic
 * apart from the resolver; any thread.
 */
public final class InetFamily {
    private InetFamily() {}

    /** AF_UNSPEC, AF_INET or AF_INET6 for the address's {@code ipv4}/{@code ipv6} (null = absent). */
    public static int choose(String host, Boolean ipv4, Boolean ipv6) throws EngineException {
        boolean has4 = ipv4 != null, has6 = ipv6 != null;
        boolean v4 = has4 && ipv4, v6 = has6 && ipv6;
        if (has4 && has6 && !v4 && !v6) {
            throw new EngineException("Cannot disable IPv4 and IPv6 at same time");
        }
        if (v4 && v6) {
            return host == null || host.isEmpty() ? SysSocket.AF_INET6 : SysSocket.AF_UNSPEC;
        }
        if (v6 || (has4 && !v4)) {
            return SysSocket.AF_INET6;
        }
        if (v4 || (has6 && !v6)) {
            return SysSocket.AF_INET;
        }
        return SysSocket.AF_UNSPEC;
    }

    /** IPV6_V6ONLY for an IPv6 listener: off (dual stack) with neither member given or both on, else on. */
    public static boolean v6only(Boolean ipv4, Boolean ipv6) {
        boolean neither = ipv4 == null && ipv6 == null;
        boolean both = Boolean.TRUE.equals(ipv4) && Boolean.TRUE.equals(ipv6);
        return !(neither || both);
    }

    /**
     * The addresses a listener on {@code host} tries, in order, for {@code family}: an empty host is the
     * wildcard of the family (0.0.0.0 first when any family will do, as getaddrinfo's passive lookup orders
     * them). Throws QEMU's "address resolution failed for HOST:PORT: ..." when none is left.
     */
    public static List<InetAddress> resolve(String host, String port, int family) throws EngineException {
        List<InetAddress> out = new ArrayList<>();
        try {
            if (host == null || host.isEmpty()) {
                if (family != SysSocket.AF_INET6) {
                    out.add(InetAddress.getByAddress(new byte[4]));
                }
                if (family != SysSocket.AF_INET) {
                    out.add(InetAddress.getByAddress(new byte[16]));
                }
                return out;
            }
            InetAddress literal = literal(host);
            InetAddress[] all = literal != null ? new InetAddress[] {literal} : InetAddress.getAllByName(host);
            for (InetAddress a : all) {
                if (matches(a, family)) {
                    out.add(a);
                }
            }
            if (out.isEmpty()) {
                throw new EngineException("address resolution failed for " + host + ":" + port + ": "
                        + (literal != null ? "Address family for hostname not supported" : "Name or service not known"));
            }
            return out;
        } catch (UnknownHostException e) {
            throw new EngineException("address resolution failed for " + host + ":" + port
                    + ": Name or service not known");
        }
    }

    private static boolean matches(InetAddress a, int family) {
        return family == SysSocket.AF_UNSPEC
                || (family == SysSocket.AF_INET ? a instanceof Inet4Address : a instanceof Inet6Address);
    }

    /** A numeric IPv4 or IPv6 address, parsed without a lookup; null for a name. */
    private static InetAddress literal(String host) {
        try {
            return InetAddress.ofLiteral(host);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
