package io.isthmus.engine.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.isthmus.engine.EngineException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Client and server {@link TlsSession}s wired back to back in memory (no sockets): handshakes for every
 * credential type, QEMU's peer checks and authz, and bulk data through small buffers.
 */
@Timeout(60)
class TlsSessionTest {
    static TestPki pki;

    @BeforeAll
    static void setUp() throws Exception {
        assumeTrue(TlsCredentials.isSupported(), "libgnutls.so.30 is not installed");
        assumeTrue(TestPki.available(), "certtool (gnutls-bin) is not installed");
        pki = TestPki.create();
    }

    @AfterAll
    static void tearDown() {
        if (pki != null) {
            pki.close();
        }
    }

    static X509Credentials serverX509(boolean verifyPeer) {
        return X509Credentials.load(TlsEndpoint.SERVER, pki.serverDir.toString(), verifyPeer, null, true, null);
    }

    static X509Credentials clientX509(java.nio.file.Path dir) {
        return X509Credentials.load(TlsEndpoint.CLIENT, dir.toString(), true, null, true, null);
    }

    /** Moves ciphertext both ways and drives both handshakes until neither makes progress. */
    static void pump(TlsSession a, TlsSession b) {
        for (int round = 0; round < 10_000; round++) {
            boolean progress = false;
            progress |= transfer(a, b);
            progress |= transfer(b, a);
            for (TlsSession s : List.of(a, b)) {
                if (s.state() == TlsSession.State.HANDSHAKING) {
                    TlsSession.State before = s.state();
                    long out = s.pendingOutput().byteSize();
                    long in = s.bufferedInput();
                    s.handshake();
                    progress |= s.state() != before || s.pendingOutput().byteSize() != out || s.bufferedInput() != in;
                }
            }
            if (!progress) {
                return;
            }
        }
        throw new AssertionError("no quiescence");
    }

    static boolean transfer(TlsSession from, TlsSession to) {
        MemorySegment pending = from.pendingOutput();
        if (pending.byteSize() == 0) {
            return false;
        }
        long n = to.feed(pending);
        if (n == 0) {
            return false;
        }
        if (from.outputSent(n) && from.state() == TlsSession.State.HANDSHAKING) {
            from.handshake();
        }
        return true;
    }

    @Test
    void x509HandshakeReportsClientDnAndMovesData() {
        X509Credentials sc = serverX509(true);
        X509Credentials cc = clientX509(pki.clientDir);
        AtomicReference<String> asked = new AtomicReference<>();
        try (TlsSession server = TlsSession.server(sc, id -> {
                 asked.set(id);
                 return true;
             });
             TlsSession client = TlsSession.client(cc, "localhost")) {
            pump(client, server);
            assertEquals(TlsSession.State.ESTABLISHED, server.state(), server.failure());
            assertEquals(TlsSession.State.ESTABLISHED, client.state(), client.failure());
            assertEquals(TestPki.CLIENT_DN, server.peerName());
            assertEquals(TestPki.CLIENT_DN, server.identity());
            assertEquals(TestPki.CLIENT_DN, asked.get());
            assertTrue(server.protocol().startsWith("TLS1."), server.protocol());
            exchange(client, server, 3 << 20, 777);
            exchange(server, client, 1 << 20, 99);
        } finally {
            sc.release();
            cc.release();
        }
        assertEquals(0, sc.references());
    }

    @Test
    void bulkDataThroughMinimalBuffers() {
        X509Credentials sc = serverX509(false);
        X509Credentials cc = clientX509(pki.clientDir);
        try (TlsSession server = TlsSession.server(sc, null, TlsSession.MAX_WIRE_RECORD,
                     TlsSession.MAX_WIRE_RECORD);
             TlsSession client = TlsSession.client(cc, "localhost")) {
            pump(client, server);
            assertEquals(TlsSession.State.ESTABLISHED, server.state(), server.failure());
            assertNull(server.peerName(), "verify-peer=off: QEMU does not look at the certificate");
            exchange(client, server, 2 << 20, 16384 * 3 + 5);
            exchange(server, client, 2 << 20, 100_000);
        } finally {
            sc.release();
            cc.release();
        }
    }

    /** Writes {@code size} random bytes from {@code a} in chunks of {@code chunk}, reads them at {@code b}. */
    static void exchange(TlsSession a, TlsSession b, int size, int chunk) {
        byte[] data = new byte[size];
        new Random(size ^ chunk).nextBytes(data);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(size);
            MemorySegment.copy(data, 0, src, ValueLayout.JAVA_BYTE, 0, size);
            MemorySegment dst = arena.allocate(size);
            MemorySegment readBuf = arena.allocate(7000); // smaller than a record: exercises pending plaintext
            long written = 0, read = 0;
            int idle = 0;
            while (read < size) {
                boolean progress = false;
                if (written < size) {
                    long w = a.write(src.asSlice(written, Math.min(chunk, size - written)));
                    assertTrue(w >= 0, a.failure());
                    written += w;
                    progress |= w > 0;
                }
                progress |= transfer(a, b);
                while (true) {
                    long r = b.read(readBuf);
                    assertTrue(r >= 0, "read: " + r + " " + b.failure());
                    if (r == 0) {
                        break;
                    }
                    MemorySegment.copy(readBuf, 0, dst, read, r);
                    read += r;
                    progress = true;
                }
                progress |= transfer(b, a);
                idle = progress ? 0 : idle + 1;
                assertTrue(idle < 3, "stalled at written=" + written + " read=" + read);
            }
            assertArrayEquals(data, dst.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void authzDenialFailsWithQemuText() {
        X509Credentials sc = serverX509(true);
        X509Credentials cc = clientX509(pki.clientDir);
        try (TlsSession server = TlsSession.server(sc, new AuthzSimple("CN=somebody-else"));
             TlsSession client = TlsSession.client(cc, "localhost")) {
            pump(client, server);
            assertEquals(TlsSession.State.FAILED, server.state());
            assertEquals("TLS x509 authz check for " + TestPki.CLIENT_DN + " is denied", server.failure());
            assertEquals(TestPki.CLIENT_DN, server.peerName());
        } finally {
            sc.release();
            cc.release();
        }
    }

    @Test
    void authzLookupErrorBecomesTheFailure() {
        X509Credentials sc = serverX509(true);
        X509Credentials cc = clientX509(pki.clientDir);
        try (TlsSession server = TlsSession.server(sc, id -> {
                 throw new EngineException("Cannot find QAuthZ object ID nosuch");
             });
             TlsSession client = TlsSession.client(cc, "localhost")) {
            pump(client, server);
            assertEquals(TlsSession.State.FAILED, server.state());
            assertEquals("Cannot find QAuthZ object ID nosuch", server.failure());
        } finally {
            sc.release();
            cc.release();
        }
    }

    @Test
    void clientSignedByAnotherCaIsRefused() {
        X509Credentials sc = serverX509(true);
        // The rogue client trusts the real server's CA so that only the server's check can refuse it.
        X509Credentials cc = X509Credentials.load(TlsEndpoint.CLIENT, pki.rogueDir.toString(), false, null, false,
                null);
        try (TlsSession server = TlsSession.server(sc, null);
             TlsSession client = TlsSession.client(cc, "localhost")) {
            pump(client, server);
            assertEquals(TlsSession.State.FAILED, server.state());
            assertTrue(server.failure().equals("The certificate hasn't got a known issuer")
                    || server.failure().startsWith("Verify failed: "), server.failure());
            assertNull(server.identity());
        } finally {
            sc.release();
            cc.release();
        }
    }

    @Test
    void clientWithoutCertificateIsRefusedWhenVerifyingPeers() {
        X509Credentials sc = serverX509(true);
        X509Credentials cc = X509Credentials.load(TlsEndpoint.CLIENT, pki.serverDir.toString(), true, null, true,
                null); // ca-cert.pem only: no client-cert.pem there
        try (TlsSession server = TlsSession.server(sc, null);
             TlsSession client = TlsSession.client(cc, "localhost")) {
            pump(client, server);
            assertEquals(TlsSession.State.FAILED, server.state());
            assertEquals("Verify failed: No certificate was found.", server.failure());
        } finally {
            sc.release();
            cc.release();
        }
    }

    @Test
    void clientChecksServerHostname() {
        X509Credentials sc = serverX509(false);
        X509Credentials cc = clientX509(pki.clientDir);
        try (TlsSession server = TlsSession.server(sc, null);
             TlsSession client = TlsSession.client(cc, "wrong.example.com")) {
            pump(client, server);
            assertEquals(TlsSession.State.FAILED, client.state());
            assertEquals("Certificate does not match the hostname wrong.example.com", client.failure());
        } finally {
            sc.release();
            cc.release();
        }
    }

    @Test
    void pskHandshakeReportsUsername() throws Exception {
        PskCredentials sc = PskCredentials.load(TlsEndpoint.SERVER, pki.pskDir.toString(), true, null, null);
        PskCredentials cc = PskCredentials.load(TlsEndpoint.CLIENT, pki.pskDir.toString(), true, null,
                TestPki.PSK_USER);
        try (TlsSession server = TlsSession.server(sc, null);
             TlsSession client = TlsSession.client(cc, null)) {
            pump(client, server);
            assertEquals(TlsSession.State.ESTABLISHED, server.state(), server.failure());
            assertEquals(TestPki.PSK_USER, server.pskUsername());
            assertEquals(TestPki.PSK_USER, server.identity());
            exchange(client, server, 100_000, 4096);
        } finally {
            sc.release();
            cc.release();
        }
    }

    @Test
    void pskWithWrongKeyFails() throws Exception {
        java.nio.file.Path other = pki.root.resolve("psk-other");
        TestPki.writePskFile(other, TestPki.PSK_USER + ":00112233445566778899aabbccddeeff");
        PskCredentials sc = PskCredentials.load(TlsEndpoint.SERVER, pki.pskDir.toString(), true, null, null);
        PskCredentials cc = PskCredentials.load(TlsEndpoint.CLIENT, other.toString(), true, null, TestPki.PSK_USER);
        try (TlsSession server = TlsSession.server(sc, null);
             TlsSession client = TlsSession.client(cc, null)) {
            pump(client, server);
            assertEquals(TlsSession.State.FAILED, server.state());
            assertTrue(server.failure().startsWith("TLS handshake failed: "), server.failure());
        } finally {
            sc.release();
            cc.release();
        }
    }

    @Test
    void anonHandshake() {
        AnonCredentials sc = AnonCredentials.load(TlsEndpoint.SERVER, null, true, null);
        AnonCredentials cc = AnonCredentials.load(TlsEndpoint.CLIENT, null, true, null);
        try (TlsSession server = TlsSession.server(sc, null);
             TlsSession client = TlsSession.client(cc, null)) {
            pump(client, server);
            assertEquals(TlsSession.State.ESTABLISHED, server.state(), server.failure());
            assertNull(server.identity());
            exchange(client, server, 50_000, 1000);
        } finally {
            sc.release();
            cc.release();
        }
    }

    @Test
    void closeNotifyIsEof() {
        X509Credentials sc = serverX509(false);
        X509Credentials cc = clientX509(pki.clientDir);
        try (TlsSession server = TlsSession.server(sc, null);
             TlsSession client = TlsSession.client(cc, "localhost");
             Arena arena = Arena.ofConfined()) {
            pump(client, server);
            client.bye();
            transfer(client, server);
            assertEquals(TlsSession.EOF, server.read(arena.allocate(100)));
        } finally {
            sc.release();
            cc.release();
        }
    }

    @Test
    void badPriorityAndEndpointAreRefusedAtSessionCreation() {
        X509Credentials bad = X509Credentials.load(TlsEndpoint.SERVER, pki.serverDir.toString(), true, "BOGUS", true,
                null);
        PskCredentials badPsk = PskCredentials.load(TlsEndpoint.SERVER, pki.pskDir.toString(), true, "BOGUS", null);
        X509Credentials client = clientX509(pki.clientDir);
        try {
            EngineException e = assertThrows(EngineException.class, () -> TlsSession.server(bad, null));
            assertEquals("Cannot set default TLS session priority BOGUS: The request is invalid.", e.getMessage());
            e = assertThrows(EngineException.class, () -> TlsSession.server(badPsk, null));
            assertEquals("Unable to set TLS session priority BOGUS:+ECDHE-PSK:+DHE-PSK:+PSK: The request is invalid.",
                    e.getMessage());
            e = assertThrows(EngineException.class, () -> TlsSession.server(client, null));
            assertEquals("Credentials endpoint doesn't match session", e.getMessage());
            assertEquals(1, bad.references(), "a failed session gives its reference back");
        } finally {
            bad.release();
            badPsk.release();
            client.release();
        }
    }

    @Test
    void credentialsOutliveTheirOwnerWhileASessionUsesThem() {
        X509Credentials sc = serverX509(false);
        X509Credentials cc = clientX509(pki.clientDir);
        TlsSession server = TlsSession.server(sc, null);
        sc.release(); // object-del while a connection uses them
        assertEquals(1, sc.references());
        try (TlsSession client = TlsSession.client(cc, "localhost")) {
            pump(client, server);
            assertEquals(TlsSession.State.ESTABLISHED, server.state(), server.failure());
        } finally {
            server.close();
            cc.release();
        }
        assertEquals(0, sc.references());
        assertThrows(IllegalStateException.class, sc::retain);
    }
}
