package io.isthmus.engine.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.bindings.SysSocket;
import io.isthmus.engine.EngineException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** QEMU's ipv4/ipv6 matrix (inet_ai_family_from_address), v6only, and the listener's address choice. */
class InetFamilyTest {
    private static final Boolean T = Boolean.TRUE, F = Boolean.FALSE, ABSENT = null;

    @Test
    void theMatrix() throws EngineException {
        assertEquals(SysSocket.AF_UNSPEC, InetFamily.choose("h", ABSENT, ABSENT));
        assertEquals(SysSocket.AF_INET, InetFamily.choose("h", ABSENT, F));
        assertEquals(SysSocket.AF_INET6, InetFamily.choose("h", ABSENT, T));
        assertEquals(SysSocket.AF_INET6, InetFamily.choose("h", F, ABSENT));
        assertEquals(SysSocket.AF_INET6, InetFamily.choose("h", F, T));
        assertEquals(SysSocket.AF_INET, InetFamily.choose("h", T, ABSENT));
        assertEquals(SysSocket.AF_INET, InetFamily.choose("h", T, F));
        assertEquals(SysSocket.AF_UNSPEC, InetFamily.choose("h", T, T));
        assertEquals(SysSocket.AF_INET6, InetFamily.choose("", T, T), "both on, empty host: one dual-stack ::");
        assertEquals(SysSocket.AF_INET6, InetFamily.choose(null, T, T));
        EngineException e = assertThrows(EngineException.class, () -> InetFamily.choose("h", F, F));
        assertEquals("Cannot disable IPv4 and IPv6 at same time", e.getMessage());
    }

    @Test
    void v6onlyIsOffOnlyForNeitherOrBoth() {
        assertFalse(InetFamily.v6only(ABSENT, ABSENT));
        assertFalse(InetFamily.v6only(T, T));
        assertTrue(InetFamily.v6only(ABSENT, T));
        assertTrue(InetFamily.v6only(F, ABSENT));
        assertTrue(InetFamily.v6only(T, ABSENT));
    }

    @Test
    void resolutionIsFilteredToTheFamilyWithGetaddrinfosTexts() throws EngineException {
        assertEquals(List.of(InetAddress.ofLiteral("::1")), InetFamily.resolve("::1", "0", SysSocket.AF_INET6));
        EngineException e = assertThrows(EngineException.class,
                () -> InetFamily.resolve("::1", "0", SysSocket.AF_INET));
        assertEquals("address resolution failed for ::1:0: Address family for hostname not supported", e.getMessage());
        e = assertThrows(EngineException.class, () -> InetFamily.resolve("127.0.0.1", "0", SysSocket.AF_INET6));
        assertEquals("address resolution failed for 127.0.0.1:0: Address family for hostname not supported",
                e.getMessage());
        e = assertThrows(EngineException.class, () -> InetFamily.resolve("nonexist.invalid", "0", SysSocket.AF_UNSPEC));
        assertEquals("address resolution failed for nonexist.invalid:0: Name or service not known", e.getMessage());
    }

    @Test
    void anEmptyHostIsTheFamilysWildcard() throws EngineException {
        List<InetAddress> any = InetFamily.resolve("", "0", SysSocket.AF_UNSPEC);
        assertTrue(any.get(0) instanceof Inet4Address && any.get(0).isAnyLocalAddress(), "0.0.0.0 first");
        List<InetAddress> v6 = InetFamily.resolve("", "0", SysSocket.AF_INET6);
        assertEquals(1, v6.size());
        assertTrue(v6.get(0) instanceof Inet6Address && v6.get(0).isAnyLocalAddress());
        List<InetAddress> v4 = InetFamily.resolve(null, "0", SysSocket.AF_INET);
        assertEquals(1, v4.size());
        assertTrue(v4.get(0) instanceof Inet4Address);
    }

    @Test
    void aListenerHonoursTheFamily() throws Exception {
        try (ListeningSocket s = ListeningSocket.open(SocketAddress.inet("", "0", ABSENT, T))) {
            assertTrue(s.describe().startsWith("tcp:[0:0:0:0:0:0:0:0]:"), s.describe());
            // ipv6=on: IPV6_V6ONLY, so an IPv4 client is refused (QEMU's v6only matrix)
            assertThrows(java.io.IOException.class, () -> new java.net.Socket("127.0.0.1", s.localPort()).close());
            new java.net.Socket("::1", s.localPort()).close();
        }
        try (ListeningSocket s = ListeningSocket.open(SocketAddress.inet("::", "0", ABSENT, ABSENT))) {
            // neither given: one dual-stack socket takes IPv4 clients too
            new java.net.Socket("127.0.0.1", s.localPort()).close();
        }
        try (ListeningSocket s = ListeningSocket.open(SocketAddress.inet("", "0", T, ABSENT))) {
            assertTrue(s.describe().startsWith("tcp:0.0.0.0:"), s.describe());
        }
        try (ListeningSocket s = ListeningSocket.open(SocketAddress.inet("127.0.0.1", "0", T, T))) {
            assertTrue(s.describe().startsWith("tcp:127.0.0.1:"), s.describe());
            assertTrue(s.localPort() > 0);
        }
        EngineException e = assertThrows(EngineException.class,
                () -> ListeningSocket.open(SocketAddress.inet("127.0.0.1", "0", F, F)));
        assertEquals("Cannot disable IPv4 and IPv6 at same time", e.getMessage());
    }
}
