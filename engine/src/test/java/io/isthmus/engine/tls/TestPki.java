package io.isthmus.engine.tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throw-away PKI for TLS tests, generated with GnuTLS's {@code certtool} (package gnutls-bin) in a fresh
 * temporary directory: a CA, a server certificate for localhost/127.0.0.1, a client certificate with the DN
 * {@link #CLIENT_DN}, and a second, unrelated CA with a client certificate it signed (a client the server must
 * refuse). Directories are laid out as QEMU's {@code tls-creds-x509} expects:
 * <pre>
 *   root/server/  ca-cert.pem server-cert.pem server-key.pem        (for endpoint=server)
 *   root/client/  ca-cert.pem client-cert.pem client-key.pem        (for endpoint=client, e.g. qemu-img)
 *   root/rogue/   ca-cert.pem client-cert.pem client-key.pem        (client signed by another CA)
 *   root/psk/     keys.psk with {@link #PSK_USER}:{@link #PSK_KEY}
 * </pre>
 * RSA 2048 keys: QEMU's sanity check wants key encipherment on leaf certificates, which ECDSA cannot have. Reusable by the NBD tests; call
 * {@link #close()} (or use try-with-resources) to delete everything.
 */
public final class TestPki implements AutoCloseable {
    /**
     * The client certificate's DN exactly as QEMU compares it with {@code authz-*} rules: GnuTLS 3.7's
     * {@code gnutls_x509_crt_get_dn} lists the RDNs in the certificate's encoding order, which for certtool is
     * C, L, O, CN (so not RFC 4514's reversed order).
     */
    public static final String CLIENT_DN = "C=GB,L=London,O=Isthmus Test,CN=client.example.com";
    public static final String ROGUE_DN = "C=GB,O=Rogue,CN=rogue.example.com";
    public static final String PSK_USER = "alice";
    public static final String PSK_KEY = "9a8b7c6d5e4f30211203f4e5d6c7b8a9";

    public final Path root;
    public final Path serverDir;
    public final Path clientDir;
    public final Path rogueDir;
    public final Path pskDir;

    private TestPki(Path root) {
        this.root = root;
        this.serverDir = root.resolve("server");
        this.clientDir = root.resolve("client");
        this.rogueDir = root.resolve("rogue");
        this.pskDir = root.resolve("psk");
    }

    /** True if certtool is installed. */
    public static boolean available() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, "certtool"))) {
                return true;
            }
        }
        return false;
    }

    /** Generates the PKI in a new temporary directory. */
    public static TestPki create() throws IOException, InterruptedException {
        TestPki pki = new TestPki(Files.createTempDirectory("isthmus-pki-"));
        try {
            pki.generate();
            return pki;
        } catch (IOException | InterruptedException | RuntimeException e) {
            pki.close();
            throw e;
        }
    }

    private void generate() throws IOException, InterruptedException {
        Path work = root.resolve("work");
        for (Path d : List.of(work, serverDir, clientDir, rogueDir, pskDir)) {
            Files.createDirectories(d);
        }
        Path caKey = key(work.resolve("ca-key.pem"));
        Path caCert = work.resolve("ca-cert.pem");
        certtool(work, "--generate-self-signed", "--load-privkey", caKey.toString(), "--template",
                template(work, "ca.info", "cn = Isthmus Test CA", "ca", "cert_signing_key", "expiration_days = 30")
                        .toString(), "--outfile", caCert.toString());

        Path serverKey = key(serverDir.resolve("server-key.pem"));
        certtool(work, "--generate-certificate", "--load-privkey", serverKey.toString(), "--load-ca-certificate",
                caCert.toString(), "--load-ca-privkey", caKey.toString(), "--template",
                template(work, "server.info", "organization = Isthmus Test", "cn = localhost", "dns_name = localhost",
                        "ip_address = 127.0.0.1", "tls_www_server", "encryption_key", "signing_key",
                        "expiration_days = 30").toString(),
                "--outfile", serverDir.resolve("server-cert.pem").toString());

        Path clientKey = key(clientDir.resolve("client-key.pem"));
        certtool(work, "--generate-certificate", "--load-privkey", clientKey.toString(), "--load-ca-certificate",
                caCert.toString(), "--load-ca-privkey", caKey.toString(), "--template",
                template(work, "client.info", "country = GB", "locality = London", "organization = Isthmus Test",
                        "cn = client.example.com", "tls_www_client", "encryption_key", "signing_key",
                        "expiration_days = 30").toString(),
                "--outfile", clientDir.resolve("client-cert.pem").toString());
        Files.copy(caCert, serverDir.resolve("ca-cert.pem"));
        Files.copy(caCert, clientDir.resolve("ca-cert.pem"));

        Path rogueCaKey = key(work.resolve("rogue-ca-key.pem"));
        Path rogueCa = rogueDir.resolve("ca-cert.pem");
        certtool(work, "--generate-self-signed", "--load-privkey", rogueCaKey.toString(), "--template",
                template(work, "rogue-ca.info", "cn = Rogue CA", "ca", "cert_signing_key", "expiration_days = 30")
                        .toString(), "--outfile", rogueCa.toString());
        Path rogueKey = key(rogueDir.resolve("client-key.pem"));
        certtool(work, "--generate-certificate", "--load-privkey", rogueKey.toString(), "--load-ca-certificate",
                rogueCa.toString(), "--load-ca-privkey", rogueCaKey.toString(), "--template",
                template(work, "rogue.info", "country = GB", "organization = Rogue", "cn = rogue.example.com",
                        "tls_www_client", "encryption_key", "signing_key", "expiration_days = 30").toString(),
                "--outfile", rogueDir.resolve("client-cert.pem").toString());

        Files.writeString(pskDir.resolve("keys.psk"), PSK_USER + ":" + PSK_KEY + "\n");
    }

    /** Writes keys.psk lines into {@code dir}. */
    public static void writePskFile(Path dir, String... userColonHex) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("keys.psk"), String.join("\n", userColonHex) + "\n");
    }

    private Path key(Path out) throws IOException, InterruptedException {
        certtool(out.getParent(), "--generate-privkey", "--key-type=rsa", "--bits=2048", "--outfile",
                out.toString());
        return out;
    }

    private static Path template(Path work, String name, String... lines) throws IOException {
        Path p = work.resolve(name);
        Files.writeString(p, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return p;
    }

    private static void certtool(Path cwd, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("certtool");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        byte[] output = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("certtool timed out: " + cmd);
        }
        if (p.exitValue() != 0) {
            throw new IOException("certtool failed (" + p.exitValue() + "): " + cmd + "\n"
                    + new String(output, StandardCharsets.UTF_8));
        }
    }

    @Override
    public void close() {
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
