package io.isthmus.engine.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.isthmus.engine.EngineException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Loading credentials: every refusal carries QEMU's text. Where qemu-storage-daemon is installed, each case is
 * also run through {@code qemu-storage-daemon --object ...} and the two messages must be equal.
 */
@Timeout(60)
class TlsCredentialsTest {
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

    /** Asserts our message; compares with QSD's for {@code --object qsdObject} when QSD is available. */
    static void refused(String expected, String qsdObject, Supplier<TlsCredentials> load) throws Exception {
        EngineException e = assertThrows(EngineException.class, () -> load.get().release());
        if (expected != null) {
            assertEquals(expected, e.getMessage());
        }
        String qsd = qsdError(qsdObject);
        if (qsd != null) {
            assertEquals(qsd, e.getMessage(), "differs from qemu-storage-daemon");
        }
    }

    /** QSD's error for one --object, or null if QSD is not installed or integration tests are off. */
    static String qsdError(String object) throws Exception {
        if (!Boolean.parseBoolean(System.getProperty("isthmus.it", "true"))
                || !TlsInteropTest.onPath("qemu-storage-daemon")) {
            return null;
        }
        Process p = new ProcessBuilder("qemu-storage-daemon", "--object", object).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("QSD accepted " + object);
        }
        String prefix = "qemu-storage-daemon: --object " + object + ": ";
        int i = out.indexOf(prefix);
        if (i < 0) {
            throw new AssertionError("unexpected QSD output: " + out);
        }
        return out.substring(i + prefix.length()).strip();
    }

    static Path dirWith(String name, String... files) throws Exception {
        Path d = pki.root.resolve(name);
        Files.createDirectories(d);
        for (int i = 0; i < files.length; i += 2) {
            Path src = Path.of(files[i + 1]);
            Files.copy(src, d.resolve(files[i]));
        }
        return d;
    }

    @Test
    void missingDirectory() throws Exception {
        refused("Unable to access credentials /nonexistent/ca-cert.pem: No such file or directory",
                "tls-creds-x509,id=t,dir=/nonexistent,endpoint=server",
                () -> X509Credentials.load(TlsEndpoint.SERVER, "/nonexistent", true, null, true, null));
        refused("Unable to access credentials /nonexistent/ca-cert.pem: No such file or directory",
                "tls-creds-x509,id=t,dir=/nonexistent,endpoint=client",
                () -> X509Credentials.load(TlsEndpoint.CLIENT, "/nonexistent", true, null, true, null));
        refused("Unable to access credentials /nonexistent/keys.psk: No such file or directory",
                "tls-creds-psk,id=t,dir=/nonexistent,endpoint=server",
                () -> PskCredentials.load(TlsEndpoint.SERVER, "/nonexistent", true, null, null));
        refused("Unable to access credentials /nonexistent/keys.psk: No such file or directory",
                "tls-creds-psk,id=t,dir=/nonexistent,endpoint=client",
                () -> PskCredentials.load(TlsEndpoint.CLIENT, "/nonexistent", true, null, null));
    }

    @Test
    void missingDirProperty() throws Exception {
        refused("Missing 'dir' property value", "tls-creds-x509,id=t,endpoint=server",
                () -> X509Credentials.load(TlsEndpoint.SERVER, null, true, null, true, null));
        refused("Missing 'dir' property value", "tls-creds-psk,id=t,endpoint=server",
                () -> PskCredentials.load(TlsEndpoint.SERVER, null, true, null, null));
    }

    @Test
    void dirIsAFile() throws Exception {
        String file = pki.pskDir.resolve("keys.psk").toString();
        refused("Unable to access credentials " + file + "/ca-cert.pem: Not a directory",
                "tls-creds-x509,id=t,dir=" + file + ",endpoint=server",
                () -> X509Credentials.load(TlsEndpoint.SERVER, file, true, null, true, null));
    }

    @Test
    void serverCertificateMissing() throws Exception {
        Path d = dirWith("ca-only", "ca-cert.pem", pki.serverDir.resolve("ca-cert.pem").toString());
        refused("Unable to access credentials " + d + "/server-cert.pem: No such file or directory",
                "tls-creds-x509,id=t,dir=" + d + ",endpoint=server",
                () -> X509Credentials.load(TlsEndpoint.SERVER, d.toString(), true, null, true, null));
    }

    @Test
    void serverCertificateNotSignedByTheCa() throws Exception {
        Path d = dirWith("wrong-ca", "ca-cert.pem", pki.rogueDir.resolve("ca-cert.pem").toString(),
                "server-cert.pem", pki.serverDir.resolve("server-cert.pem").toString(),
                "server-key.pem", pki.serverDir.resolve("server-key.pem").toString());
        refused("Our own certificate " + d + "/server-cert.pem failed validation against " + d
                        + "/ca-cert.pem: The certificate hasn't got a known issuer",
                "tls-creds-x509,id=t,dir=" + d + ",endpoint=server",
                () -> X509Credentials.load(TlsEndpoint.SERVER, d.toString(), true, null, true, null));
        // without the sanity check the same directory loads (as in QEMU)
        X509Credentials.load(TlsEndpoint.SERVER, d.toString(), true, null, false, null).release();
    }

    @Test
    void garbageCaCertificate() throws Exception {
        Path d = dirWith("garbage-ca", "server-cert.pem", pki.serverDir.resolve("server-cert.pem").toString(),
                "server-key.pem", pki.serverDir.resolve("server-key.pem").toString());
        Files.writeString(d.resolve("ca-cert.pem"), "not a certificate\n");
        refused("Unable to import CA certificate list " + d + "/ca-cert.pem",
                "tls-creds-x509,id=t,dir=" + d + ",endpoint=server",
                () -> X509Credentials.load(TlsEndpoint.SERVER, d.toString(), true, null, true, null));
    }

    @Test
    void caCertificateUsedAsServerCertificate() throws Exception {
        String ca = pki.serverDir.resolve("ca-cert.pem").toString();
        Path d = dirWith("ca-as-server", "ca-cert.pem", ca, "server-cert.pem", ca,
                "server-key.pem", pki.serverDir.resolve("server-key.pem").toString());
        refused("The certificate " + d + "/server-cert.pem basic constraints show a CA, but we need one for a server",
                "tls-creds-x509,id=t,dir=" + d + ",endpoint=server",
                () -> X509Credentials.load(TlsEndpoint.SERVER, d.toString(), true, null, true, null));
    }

    @Test
    void pskRefusals() throws Exception {
        refused("username should not be set when endpoint=server",
                "tls-creds-psk,id=t,dir=" + pki.pskDir + ",endpoint=server,username=bob",
                () -> PskCredentials.load(TlsEndpoint.SERVER, pki.pskDir.toString(), true, null, "bob"));
        refused("Username qemu not found in PSK file " + pki.pskDir + "/keys.psk",
                "tls-creds-psk,id=t,dir=" + pki.pskDir + ",endpoint=client",
                () -> PskCredentials.load(TlsEndpoint.CLIENT, pki.pskDir.toString(), true, null, null));
    }

    @Test
    void validCredentialsLoad() {
        X509Credentials x = X509Credentials.load(TlsEndpoint.SERVER, pki.serverDir.toString(), true, null, true, null);
        assertEquals("tls-creds-x509", x.qomType());
        assertEquals("NORMAL", x.sessionPriority());
        x.release();
        PskCredentials p = PskCredentials.load(TlsEndpoint.CLIENT, pki.pskDir.toString(), true, "@SYSTEM",
                TestPki.PSK_USER);
        assertEquals("@SYSTEM:+ECDHE-PSK:+DHE-PSK:+PSK", p.sessionPriority());
        p.release();
        AnonCredentials a = AnonCredentials.load(TlsEndpoint.SERVER, "/nonexistent", true, null);
        assertEquals("NORMAL:+ANON-DH", a.sessionPriority());
        a.release();
        assertEquals(0, a.references());
    }

    @Test
    void endpointCheckText() {
        X509Credentials x = X509Credentials.load(TlsEndpoint.CLIENT, pki.clientDir.toString(), true, null, true,
                null);
        try {
            EngineException e = assertThrows(EngineException.class, () -> x.checkEndpoint(TlsEndpoint.SERVER));
            assertEquals("Expected TLS credentials for a server endpoint", e.getMessage());
        } finally {
            x.release();
        }
    }
}
