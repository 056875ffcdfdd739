package io.isthmus.engine.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Interoperability with real GnuTLS peers over loopback TCP: {@code gnutls-cli} (x509 with a client certificate,
 * a client signed by another CA, PSK) against {@link TlsSession} driven by {@link TlsEchoServer}; and
 * qemu-storage-daemon's own authz check, which proves that the DN {@link TlsSession#peerName()} reports is the
 * exact string QEMU compares with {@code authz-simple identity}.
 */
@Timeout(60)
class TlsInteropTest {
    static TestPki pki;

    @BeforeAll
    static void setUp() throws Exception {
        assumeTrue(Boolean.parseBoolean(System.getProperty("isthmus.it", "true")), "integration tests disabled");
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

    static boolean onPath(String exe) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, exe))) {
                return true;
            }
        }
        return false;
    }

    /** Runs a gnutls-cli session: sends {@code line}, waits for its echo, closes stdin; returns stdout+stderr. */
    static String gnutlsCli(int port, String line, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("gnutls-cli", "-p", String.valueOf(port)));
        cmd.addAll(List.of(args));
        cmd.add("127.0.0.1");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuffer out = new StringBuffer();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (InputStream in = p.getInputStream()) {
                byte[] buf = new byte[4096];
                int n;
                while ((n = in.read(buf)) > 0) {
                    out.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException ignored) {
                // process ended
            }
        });
        try (OutputStream stdin = p.getOutputStream()) {
            stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            // the sent line is not echoed locally by gnutls-cli: a second occurrence is not needed
            while (!out.toString().contains(line) && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        } catch (IOException e) {
            // gnutls-cli exited before reading stdin (refused): its output says why
        }
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        reader.join(5000);
        return out.toString();
    }

    @Test
    void gnutlsCliWithClientCertificateIsServedAndIdentified() throws Exception {
        assumeTrue(onPath("gnutls-cli"), "gnutls-cli (gnutls-bin) is not installed");
        X509Credentials creds = X509Credentials.load(TlsEndpoint.SERVER, pki.serverDir.toString(), true, null,
                true, null);
        try (TlsEchoServer server = new TlsEchoServer(creds, new AuthzSimple(TestPki.CLIENT_DN))) {
            String out = gnutlsCli(server.port(), "hello isthmus over tls",
                    "--x509cafile", pki.serverDir.resolve("ca-cert.pem").toString(),
                    "--x509certfile", pki.clientDir.resolve("client-cert.pem").toString(),
                    "--x509keyfile", pki.clientDir.resolve("client-key.pem").toString());
            TlsEchoServer.Result r = server.result.get(20, TimeUnit.SECONDS);
            assertEquals(null, r.failure(), out);
            assertEquals(TlsSession.State.CLOSED, r.state(), out);
            assertEquals(TestPki.CLIENT_DN, r.peerName());
            assertTrue(out.contains("hello isthmus over tls"), out);
            assertEquals("hello isthmus over tls\n".length(), r.echoed());
        } finally {
            creds.release();
        }
    }

    @Test
    void gnutlsCliWithCertificateFromAnotherCaIsRefused() throws Exception {
        assumeTrue(onPath("gnutls-cli"), "gnutls-cli (gnutls-bin) is not installed");
        X509Credentials creds = X509Credentials.load(TlsEndpoint.SERVER, pki.serverDir.toString(), true, null,
                true, null);
        try (TlsEchoServer server = new TlsEchoServer(creds, null)) {
            String out = gnutlsCli(server.port(), "let me in",
                    "--x509cafile", pki.serverDir.resolve("ca-cert.pem").toString(),
                    "--x509certfile", pki.rogueDir.resolve("client-cert.pem").toString(),
                    "--x509keyfile", pki.rogueDir.resolve("client-key.pem").toString());
            TlsEchoServer.Result r = server.result.get(20, TimeUnit.SECONDS);
            assertEquals(TlsSession.State.FAILED, r.state(), out);
            assertTrue(r.failure().equals("The certificate hasn't got a known issuer")
                    || r.failure().equals("Verify failed: No certificate was found."), r.failure());
            assertEquals(0, r.echoed());
            assertTrue(!out.contains("let me in") || out.indexOf("let me in") == out.lastIndexOf("let me in"), out);
        } finally {
            creds.release();
        }
    }

    @Test
    void gnutlsCliWithPskIsServedAndIdentified() throws Exception {
        assumeTrue(onPath("gnutls-cli"), "gnutls-cli (gnutls-bin) is not installed");
        PskCredentials creds = PskCredentials.load(TlsEndpoint.SERVER, pki.pskDir.toString(), true, null, null);
        try (TlsEchoServer server = new TlsEchoServer(creds, null)) {
            String out = gnutlsCli(server.port(), "pre-shared hello",
                    "--pskusername", TestPki.PSK_USER, "--pskkey", TestPki.PSK_KEY,
                    "--priority", "NORMAL:+ECDHE-PSK:+DHE-PSK:+PSK");
            TlsEchoServer.Result r = server.result.get(20, TimeUnit.SECONDS);
            assertEquals(null, r.failure(), out);
            assertEquals(TestPki.PSK_USER, r.pskUsername());
            assertTrue(out.contains("pre-shared hello"), out);
            assertEquals("pre-shared hello\n".length(), r.echoed());
        } finally {
            creds.release();
        }
    }

    @Test
    void gnutlsCliWithWrongPskKeyFailsTheHandshake() throws Exception {
        assumeTrue(onPath("gnutls-cli"), "gnutls-cli (gnutls-bin) is not installed");
        PskCredentials creds = PskCredentials.load(TlsEndpoint.SERVER, pki.pskDir.toString(), true, null, null);
        try (TlsEchoServer server = new TlsEchoServer(creds, null)) {
            gnutlsCli(server.port(), "x", "--pskusername", TestPki.PSK_USER,
                    "--pskkey", "00112233445566778899aabbccddeeff", "--priority", "NORMAL:+ECDHE-PSK:+DHE-PSK:+PSK");
            TlsEchoServer.Result r = server.result.get(20, TimeUnit.SECONDS);
            assertNotEquals(TlsSession.State.CLOSED, r.state());
            assertTrue(r.failure() != null && (r.failure().startsWith("TLS handshake failed: ")
                    || r.failure().equals("peer closed during handshake")), r.failure());
        } finally {
            creds.release();
        }
    }

    /**
     * QSD with tls-authz=authz-simple accepts qemu-img exactly when the identity is the DN our session reports
     * (and refuses the same DN in the other RDN order), so both compare the same string.
     */
    @Test
    void qemuAuthorisesTheDnOurSessionReports() throws Exception {
        assumeTrue(onPath("qemu-storage-daemon") && onPath("qemu-img"), "qemu-storage-daemon/qemu-img not installed");
        // what our session extracts from the client certificate
        X509Credentials sc = X509Credentials.load(TlsEndpoint.SERVER, pki.serverDir.toString(), true, null, true,
                null);
        X509Credentials cc = X509Credentials.load(TlsEndpoint.CLIENT, pki.clientDir.toString(), true, null, true,
                null);
        String dn;
        try (TlsSession server = TlsSession.server(sc, null); TlsSession client = TlsSession.client(cc, "localhost")) {
            TlsSessionTest.pump(client, server);
            dn = server.peerName();
        } finally {
            sc.release();
            cc.release();
        }
        assertEquals(TestPki.CLIENT_DN, dn);
        assertEquals("", qemuImgAgainstQsd(dn), "QEMU refused the DN our session reports");
        String reversed = String.join(",", reverse(dn.split(",")));
        assertTrue(qemuImgAgainstQsd(reversed).contains("TLS x509 authz check for " + dn + " is denied"));
    }

    private static List<String> reverse(String[] a) {
        List<String> l = new ArrayList<>(List.of(a));
        java.util.Collections.reverse(l);
        return l;
    }

    /** Runs qemu-img info over NBD+TLS against a QSD whose authz-simple allows {@code identity}; returns "" on
     *  success, else QSD's and qemu-img's messages. */
    private static String qemuImgAgainstQsd(String identity) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path log = Files.createTempFile("isthmus-qsd-", ".log");
        String authz = "{\"qom-type\":\"authz-simple\",\"id\":\"auth0\",\"identity\":\"" + identity + "\"}";
        Process qsd = new ProcessBuilder("qemu-storage-daemon",
                "--object", "tls-creds-x509,id=tls0,dir=" + pki.serverDir + ",endpoint=server",
                "--object", authz,
                "--blockdev", "null-co,node-name=n0,size=1048576",
                "--nbd-server", "addr.type=inet,addr.host=127.0.0.1,addr.port=" + port + ",tls-creds=tls0,tls-authz=auth0",
                "--export", "nbd,id=e0,node-name=n0,name=e0")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (true) {
                try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    break;
                } catch (IOException e) {
                    assertTrue(qsd.isAlive(), () -> "QSD exited: " + read(log));
                    assertTrue(System.nanoTime() < deadline, "QSD did not listen");
                    Thread.sleep(20);
                }
            }
            Process img = new ProcessBuilder("qemu-img", "info",
                    "--object", "tls-creds-x509,id=tls0,dir=" + pki.clientDir + ",endpoint=client",
                    "--image-opts", "driver=nbd,host=127.0.0.1,port=" + port + ",export=e0,tls-creds=tls0")
                    .redirectErrorStream(true).start();
            String out = new String(img.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(img.waitFor(20, TimeUnit.SECONDS));
            return img.exitValue() == 0 ? "" : out + "\n" + read(log);
        } finally {
            qsd.destroy();
            if (!qsd.waitFor(5, TimeUnit.SECONDS)) {
                qsd.destroyForcibly();
            }
            Files.deleteIfExists(log);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }
}
