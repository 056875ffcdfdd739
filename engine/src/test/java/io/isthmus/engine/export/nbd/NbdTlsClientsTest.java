package io.isthmus.engine.export.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.isthmus.engine.tls.PskCredentials;
import io.isthmus.engine.tls.TestPki;
import io.isthmus.engine.tls.TlsCredentials;
import io.isthmus.engine.tls.TlsEndpoint;
import io.isthmus.engine.tls.X509Credentials;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** STARTTLS with real GnuTLS clients (qemu-io, qemu-img): x509, PSK, and an authz refusal. */
@Timeout(120)
class NbdTlsClientsTest {
    static TestPki pki;

    @BeforeAll
    static void pki() throws Exception {
        assumeTrue(!"false".equals(System.getProperty("isthmus.it")), "integration tests disabled");
        assumeTrue(TestPki.available() && TlsCredentials.isSupported(), "certtool or GnuTLS missing");
        assumeTrue(NbdHarness.have("qemu-io") && NbdHarness.have("qemu-img"), "qemu-io/qemu-img missing");
        pki = TestPki.create();
    }

    @AfterAll
    static void cleanup() {
        if (pki != null) {
            pki.close();
        }
    }

    static String opts(NbdHarness h, String tlsObj) {
        String o = "driver=nbd,export=disk,server.type=unix,server.path=" + h.socket + ",tls-creds=tls0";
        // over a UNIX socket the x509 client needs the name to check the server certificate against
        return tlsObj.startsWith("tls-creds-x509") ? o + ",tls-hostname=localhost" : o;
    }

    @Test
    void x509WriteReadVerifyAndAuthzRefusal() throws Exception {
        try (NbdHarness h = new NbdHarness("tls-x509")) {
            h.node("disk", 16 << 20);
            h.tlsCreds = X509Credentials.load(TlsEndpoint.SERVER, pki.serverDir.toString(), true, null, false, null);
            h.tlsAuthz = dn -> dn.equals(TestPki.CLIENT_DN);
            h.start(100, 10);
            h.export("e1", "disk", true, new NbdExportOptions(null, null, null, false));
            String obj = "tls-creds-x509,id=tls0,endpoint=client,dir=" + pki.clientDir;
            Object[] w = NbdHarness.run("qemu-io", "--object", obj, "--image-opts", "-c", "write -P 0x5a 0 1M",
                    "-c", "write -P 0x33 3M 4k", "-c", "read -P 0x5a 0 1M", "-c", "read -P 0x33 3M 4k",
                    opts(h, obj));
            String out = (String) w[1];
            assertEquals(0, w[0], out);
            assertTrue(!out.contains("Pattern verification failed"), out);
            Object[] info = NbdHarness.run("qemu-img", "info", "--object", obj, "--image-opts", opts(h, obj));
            assertEquals(0, info[0], (String) info[1]);
            assertTrue(((String) info[1]).contains("virtual size: 16 MiB"), (String) info[1]);
            // a client certificate from another CA is refused in the TLS handshake
            String rogue = "tls-creds-x509,id=tls0,endpoint=client,dir=" + pki.rogueDir;
            Object[] bad = NbdHarness.run("qemu-img", "info", "--object", rogue, "--image-opts", opts(h, rogue));
            assertNotEquals(0, bad[0], (String) bad[1]);
            // plaintext clients are told TLS is required
            Object[] plain = NbdHarness.run("qemu-img", "info", h.uri("disk"));
            assertNotEquals(0, plain[0]);
            assertTrue(((String) plain[1]).contains("TLS"), (String) plain[1]);
        }
        // a valid certificate whose DN the authz object does not allow
        try (NbdHarness h = new NbdHarness("tls-authz")) {
            h.node("disk", 1 << 20);
            h.tlsCreds = X509Credentials.load(TlsEndpoint.SERVER, pki.serverDir.toString(), true, null, false, null);
            h.tlsAuthz = dn -> false;
            h.start(100, 10);
            h.export("e1", "disk", false, new NbdExportOptions(null, null, null, false));
            String obj = "tls-creds-x509,id=tls0,endpoint=client,dir=" + pki.clientDir;
            Object[] denied = NbdHarness.run("qemu-img", "info", "--object", obj, "--image-opts", opts(h, obj));
            assertNotEquals(0, denied[0], (String) denied[1]);
        }
    }

    @Test
    void pskReadWrite() throws Exception {
        try (NbdHarness h = new NbdHarness("tls-psk")) {
            h.node("disk", 8 << 20);
            h.tlsCreds = PskCredentials.load(TlsEndpoint.SERVER, pki.pskDir.toString(), false, null, null);
            h.start(100, 10);
            h.export("e1", "disk", true, new NbdExportOptions(null, null, null, false));
            String obj = "tls-creds-psk,id=tls0,endpoint=client,dir=" + pki.pskDir + ",username=" + TestPki.PSK_USER;
            Object[] w = NbdHarness.run("qemu-io", "--object", obj, "--image-opts", "-c", "write -P 0x77 1M 2M",
                    "-c", "read -P 0x77 1M 2M", "-c", "read -P 0 0 1M", opts(h, obj));
            String out = (String) w[1];
            assertEquals(0, w[0], out);
            assertTrue(!out.contains("Pattern verification failed"), out);
        }
    }
}
