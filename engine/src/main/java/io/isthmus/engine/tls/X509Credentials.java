package io.isthmus.engine.tls;

import io.isthmus.bindings.Gnutls;
import io.isthmus.bindings.GnutlsX509;
import io.isthmus.engine.EngineException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code tls-creds-x509}: a GnuTLS certificate credential loaded from QEMU's directory layout — {@code ca-cert.pem}
 * (required), {@code ca-crl.pem} (optional), and {@code server-cert.pem}/{@code server-key.pem} (required for a
 * server) or {@code client-cert.pem}/{@code client-key.pem} (optional for a client), {@code dh-params.pem}
 * (optional, server). With {@code sanity-check} (default on) the certificates are checked first, with QEMU's
 * error texts, so a misconfigured PKI fails at object-add rather than at a client's handshake.
 *
 * <p>Threading and memory as {@link TlsCredentials}.
 */
public final class X509Credentials extends TlsCredentials {
    private static final int MAX_CA_CERTS = 16;

    private MemorySegment cred;

    private X509Credentials(TlsEndpoint endpoint, String dir, boolean verifyPeer, String priority) {
        super(endpoint, dir, verifyPeer, priority);
    }

    /**
     * Loads x509 credentials as QEMU's {@code tls-creds-x509} does.
     *
     * @param password the private key's password (the {@code passwordid} secret), or null; asked only when the
     *                 key is loaded, which is where QEMU resolves the secret (its error comes after file errors)
     * @throws EngineException with QEMU's text
     */
    public static X509Credentials load(TlsEndpoint endpoint, String dir, boolean verifyPeer, String priority,
                                       boolean sanityCheck, Supplier<String> password) {
        String caCert, caCrl = null, cert, key, dhParams = null;
        boolean server = endpoint == TlsEndpoint.SERVER;
        if (server) {
            caCert = CredentialFiles.path(dir, CredentialFiles.CA_CERT, true);
            caCrl = CredentialFiles.path(dir, CredentialFiles.CA_CRL, false);
            cert = CredentialFiles.path(dir, CredentialFiles.SERVER_CERT, true);
            key = CredentialFiles.path(dir, CredentialFiles.SERVER_KEY, true);
            dhParams = CredentialFiles.path(dir, CredentialFiles.DH_PARAMS, false);
        } else {
            caCert = CredentialFiles.path(dir, CredentialFiles.CA_CERT, true);
            cert = CredentialFiles.path(dir, CredentialFiles.CLIENT_CERT, false);
            key = CredentialFiles.path(dir, CredentialFiles.CLIENT_KEY, false);
        }
        if (sanityCheck) {
            sanityCheck(server, caCert, cert);
        }
        X509Credentials c = new X509Credentials(endpoint, dir, verifyPeer, priority);
        c.cred = Gt.allocate(Gnutls.gnutls_certificate_allocate_credentials(), "Cannot allocate credentials");
        try (Arena a = Arena.ofConfined()) {
            int r = (int) Gnutls.gnutls_certificate_set_x509_trust_file().invokeExact(c.cred, a.allocateFrom(caCert),
                    Gnutls.GNUTLS_X509_FMT_PEM);
            if (r < 0) {
                throw new EngineException("Cannot load CA certificate '" + caCert + "': " + Gt.strerror(r));
            }
            if (cert != null && key != null) {
                String secret = password == null ? null : password.get();
                MemorySegment pass = secret == null ? MemorySegment.NULL : a.allocateFrom(secret);
                r = (int) Gnutls.gnutls_certificate_set_x509_key_file2().invokeExact(c.cred, a.allocateFrom(cert),
                        a.allocateFrom(key), Gnutls.GNUTLS_X509_FMT_PEM, pass, 0);
                if (r < 0) {
                    throw new EngineException("Cannot load certificate '" + cert + "' & key '" + key + "': "
                            + Gt.strerror(r));
                }
            }
            if (caCrl != null) {
                r = (int) Gnutls.gnutls_certificate_set_x509_crl_file().invokeExact(c.cred, a.allocateFrom(caCrl),
                        Gnutls.GNUTLS_X509_FMT_PEM);
                if (r < 0) {
                    throw new EngineException("Cannot load CRL '" + caCrl + "': " + Gt.strerror(r));
                }
            }
            if (server) {
                c.dhParams = loadDhParams(dhParams);
                if (c.dhParams.equals(MemorySegment.NULL)) {
                    r = (int) Gnutls.gnutls_certificate_set_known_dh_params().invokeExact(c.cred,
                            Gnutls.GNUTLS_SEC_PARAM_MEDIUM);
                    if (r < 0) {
                        throw new EngineException("Unable to initialize DH parameters: " + Gt.strerror(r));
                    }
                } else {
                    Gnutls.gnutls_certificate_set_dh_params().invokeExact(c.cred, c.dhParams);
                }
            }
            return c;
        } catch (Throwable t) {
            c.release();
            if (t instanceof EngineException e) {
                throw e;
            }
            throw Gt.rethrow(t);
        }
    }

    @Override
    public String qomType() {
        return "tls-creds-x509";
    }

    @Override
    public String sessionPriority() {
        return priority() != null ? priority() : DEFAULT_PRIORITY;
    }

    @Override
    String priorityErrorPrefix() {
        return "Cannot set default TLS session priority ";
    }

    @Override
    int credentialsType() {
        return Gnutls.GNUTLS_CRD_CERTIFICATE;
    }

    @Override
    MemorySegment handle() {
        return cred;
    }

    @Override
    void free() {
        Gt.free(Gnutls.gnutls_certificate_free_credentials(), cred);
        cred = MemorySegment.NULL;
    }

    // ---- QEMU's sanity check of the configured certificates

    private static void sanityCheck(boolean server, String caCertFile, String certFile) {
        X509Cert cert = null;
        List<X509Cert> cas = List.of();
        try {
            if (certFile != null && Files.isReadable(Path.of(certFile))) {
                cert = loadCert(certFile, server);
            }
            if (Files.isReadable(Path.of(caCertFile))) {
                cas = loadCaList(caCertFile);
            }
            if (cert != null) {
                checkCert(cert, certFile, server, false);
            }
            for (X509Cert ca : cas) {
                checkCert(ca, caCertFile, server, true);
            }
            if (cert != null && !cas.isEmpty()) {
                checkPair(cert, certFile, cas, caCertFile, server);
            }
        } finally {
            if (cert != null) {
                cert.close();
            }
            cas.forEach(X509Cert::close);
        }
    }

    private static byte[] readCertFile(String file) {
        try {
            return Files.readAllBytes(Path.of(file));
        } catch (IOException e) {
            throw new EngineException("Cannot load CA cert list " + file + ": Failed to open file \u201c" + file
                    + "\u201d: " + ioReason(e));
        }
    }

    private static X509Cert loadCert(String file, boolean server) {
        byte[] pem = readCertFile(file);
        int[] err = new int[1];
        try (Arena a = Arena.ofConfined()) {
            X509Cert c = X509Cert.importDatum(datum(a, pem), Gnutls.GNUTLS_X509_FMT_PEM, err);
            if (c == null) {
                throw new EngineException("Unable to import " + (server ? "server" : "client") + " certificate "
                        + file + ": " + Gt.strerror(err[0]));
            }
            return c;
        }
    }

    private static List<X509Cert> loadCaList(String file) {
        byte[] pem = readCertFile(file);
        int[] err = new int[1];
        List<X509Cert> l = X509Cert.importList(pem, MAX_CA_CERTS, err);
        if (l == null) {
            throw new EngineException("Unable to import CA certificate list " + file);
        }
        return l;
    }

    private static void checkCert(X509Cert cert, String file, boolean server, boolean ca) {
        long now = System.currentTimeMillis() / 1000;
        String who = ca ? "CA" : server ? "server" : "client";
        if (cert.expirationTime() < now) {
            throw new EngineException("The " + who + " certificate " + file + " has expired");
        }
        if (cert.activationTime() > now) {
            throw new EngineException("The " + who + " certificate " + file + " is not yet active");
        }
        // basic constraints
        int bc = cert.basicConstraints();
        if (bc > 0) {
            if (!ca) {
                throw new EngineException("The certificate " + file + " basic constraints show a CA, but we need one"
                        + " for a " + (server ? "server" : "client"));
            }
        } else if (bc == 0) {
            if (ca) {
                throw new EngineException("The certificate " + file + " basic constraints do not show a CA");
            }
        } else if (bc == Gnutls.GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            if (ca) {
                throw new EngineException("The certificate " + file + " is missing basic constraints for a CA");
            }
        } else {
            throw new EngineException("Unable to query certificate " + file + " basic constraints: "
                    + Gt.strerror(bc));
        }
        // key usage
        int[] ku = cert.keyUsage();
        int usage = ku[1];
        boolean critical = ku[2] != 0;
        if (ku[0] < 0) {
            if (ku[0] == Gnutls.GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
                usage = ca ? Gnutls.GNUTLS_KEY_KEY_CERT_SIGN
                        : Gnutls.GNUTLS_KEY_DIGITAL_SIGNATURE | Gnutls.GNUTLS_KEY_KEY_ENCIPHERMENT;
                critical = false;
            } else {
                throw new EngineException("Unable to query certificate " + file + " key usage: "
                        + Gt.strerror(ku[0]));
            }
        }
        if (ca) {
            if ((usage & Gnutls.GNUTLS_KEY_KEY_CERT_SIGN) == 0 && critical) {
                throw new EngineException("Certificate " + file + " usage does not permit certificate signing");
            }
        } else {
            if ((usage & Gnutls.GNUTLS_KEY_DIGITAL_SIGNATURE) == 0 && critical) {
                throw new EngineException("Certificate " + file + " usage does not permit digital signature");
            }
            if ((usage & Gnutls.GNUTLS_KEY_KEY_ENCIPHERMENT) == 0 && critical) {
                throw new EngineException("Certificate " + file + " usage does not permit key encipherment");
            }
            checkKeyPurpose(cert, file, server);
        }
    }

    private static void checkKeyPurpose(X509Cert cert, String file, boolean server) {
        boolean allowClient = false, allowServer = false, critical = false;
        int[] st = new int[2];
        for (int i = 0; ; i++) {
            String oid = cert.keyPurpose(i, st);
            if (st[0] == Gnutls.GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
                if (i == 0) {
                    allowServer = allowClient = true;
                }
                break;
            }
            if (oid == null) {
                throw new EngineException("Unable to query certificate " + file + " key purpose: "
                        + Gt.strerror(st[0]));
            }
            if (st[1] != 0) {
                critical = true;
            }
            switch (oid) {
                case GnutlsX509.GNUTLS_KP_TLS_WWW_SERVER -> allowServer = true;
                case GnutlsX509.GNUTLS_KP_TLS_WWW_CLIENT -> allowClient = true;
                case GnutlsX509.GNUTLS_KP_ANY -> allowServer = allowClient = true;
                default -> { }
            }
        }
        if (server && !allowServer && critical) {
            throw new EngineException("Certificate " + file + " purpose does not allow use with a TLS server");
        }
        if (!server && !allowClient && critical) {
            throw new EngineException("Certificate " + file + " purpose does not allow use with a TLS client");
        }
    }

    private static void checkPair(X509Cert cert, String certFile, List<X509Cert> cas, String caFile,
                                  boolean server) {
        int[] v = cert.verifyAgainst(cas);
        if (v[1] < 0) {
            throw new EngineException("Unable to verify " + (server ? "server" : "client") + " certificate "
                    + certFile + " against CA certificate " + caFile);
        }
        if (v[0] != 0) {
            throw new EngineException("Our own certificate " + certFile + " failed validation against " + caFile
                    + ": " + X509Cert.statusReason(v[0]));
        }
    }
}
