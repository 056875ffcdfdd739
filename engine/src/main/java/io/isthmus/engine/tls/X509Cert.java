package io.isthmus.engine.tls;

import io.isthmus.bindings.Gnutls;
import io.isthmus.bindings.GnutlsX509;
import io.isthmus.engine.EngineException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * One parsed X.509 certificate ({@code gnutls_x509_crt_t}) and the queries the credential sanity check and the
 * peer check make. Owns its native handle; {@link #close()} deinitialises it. Single-threaded use.
 */
final class X509Cert implements AutoCloseable {
    private MemorySegment crt;

    private X509Cert(MemorySegment crt) {
        this.crt = crt;
    }

    MemorySegment handle() {
        return crt;
    }

    static MemorySegment init() {
        return Gt.allocate(GnutlsX509.gnutls_x509_crt_init(), "Cannot initialize certificate");
    }

    /** Imports one certificate from a DER/PEM datum; returns a GnuTLS error code through {@code err[0]}. */
    static X509Cert importDatum(MemorySegment datum, int format, int[] err) {
        MemorySegment crt = init();
        try {
            int r = (int) GnutlsX509.gnutls_x509_crt_import().invokeExact(crt, datum, format);
            if (r < 0) {
                Gt.crtDeinit(crt);
                err[0] = r;
                return null;
            }
            return new X509Cert(crt);
        } catch (Throwable t) {
            Gt.crtDeinit(crt);
            throw Gt.rethrow(t);
        }
    }

    /** Imports up to {@code max} PEM certificates; null with {@code err[0]} set on failure. */
    static List<X509Cert> importList(byte[] pem, int max, int[] err) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment datum = TlsCredentials.datum(a, pem);
            MemorySegment certs = a.allocate(ValueLayout.ADDRESS, max);
            MemorySegment count = a.allocate(ValueLayout.JAVA_INT);
            count.set(ValueLayout.JAVA_INT, 0, max);
            int r = (int) GnutlsX509.gnutls_x509_crt_list_import().invokeExact(certs, count, datum,
                    Gnutls.GNUTLS_X509_FMT_PEM, 0);
            if (r < 0) {
                err[0] = r;
                return null;
            }
            int n = count.get(ValueLayout.JAVA_INT, 0);
            List<X509Cert> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(new X509Cert(certs.getAtIndex(ValueLayout.ADDRESS, i)));
            }
            return out;
        } catch (Throwable t) {
            throw Gt.rethrow(t);
        }
    }

    /** The distinguished name as {@code gnutls_x509_crt_get_dn} writes it (RFC 4514 order, as QEMU reports). */
    String dn() {
        long size = 1024;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sizeSeg = a.allocate(ValueLayout.JAVA_LONG);
            for (int attempt = 0; attempt < 4; attempt++) {
                MemorySegment buf = a.allocate(size);
                sizeSeg.set(ValueLayout.JAVA_LONG, 0, size);
                int r = (int) GnutlsX509.gnutls_x509_crt_get_dn().invokeExact(crt, buf, sizeSeg);
                if (r == Gnutls.GNUTLS_E_SHORT_MEMORY_BUFFER) {
                    size = Math.max(size * 2, sizeSeg.get(ValueLayout.JAVA_LONG, 0) + 1);
                    continue;
                }
                if (r < 0) {
                    throw new EngineException("Cannot get client distinguished name: " + Gt.strerror(r));
                }
                return buf.getString(0);
            }
            throw new EngineException("Cannot get client distinguished name: "
                    + Gt.strerror(Gnutls.GNUTLS_E_SHORT_MEMORY_BUFFER));
        } catch (EngineException e) {
            throw e;
        } catch (Throwable t) {
            throw Gt.rethrow(t);
        }
    }

    long activationTime() {
        try {
            return (long) GnutlsX509.gnutls_x509_crt_get_activation_time().invokeExact(crt);
        } catch (Throwable t) {
            throw Gt.rethrow(t);
        }
    }

    long expirationTime() {
        try {
            return (long) GnutlsX509.gnutls_x509_crt_get_expiration_time().invokeExact(crt);
        } catch (Throwable t) {
            throw Gt.rethrow(t);
        }
    }

    /** gnutls_x509_crt_get_basic_constraints: > 0 CA, 0 not CA, or a negative error. */
    int basicConstraints() {
        try {
            return (int) GnutlsX509.gnutls_x509_crt_get_basic_constraints().invokeExact(crt, MemorySegment.NULL,
                    MemorySegment.NULL, MemorySegment.NULL);
        } catch (Throwable t) {
            throw Gt.rethrow(t);
        }
    }

    /** Key usage: {status, usage, critical}. */
    int[] keyUsage() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment usage = a.allocate(ValueLayout.JAVA_INT);
            MemorySegment critical = a.allocate(ValueLayout.JAVA_INT);
            int r = (int) GnutlsX509.gnutls_x509_crt_get_key_usage().invokeExact(crt, usage, critical);
            return new int[] {r, usage.get(ValueLayout.JAVA_INT, 0), critical.get(ValueLayout.JAVA_INT, 0)};
        } catch (Throwable t) {
            throw Gt.rethrow(t);
        }
    }

    /** Key purpose OID number {@code index}: the OID, or null with {@code status[0]} = error code; critical in
     *  {@code status[1]}. */
    String keyPurpose(int index, int[] status) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment critical = a.allocate(ValueLayout.JAVA_INT);
            MemorySegment buf = a.allocate(256);
            size.set(ValueLayout.JAVA_LONG, 0, 256);
            int r = (int) GnutlsX509.gnutls_x509_crt_get_key_purpose_oid().invokeExact(crt, index, buf, size,
                    critical);
            status[0] = r;
            status[1] = critical.get(ValueLayout.JAVA_INT, 0);
            return r < 0 ? null : buf.getString(0);
        } catch (Throwable t) {
            throw Gt.rethrow(t);
        }
    }

    /** gnutls_x509_crt_list_verify of this certificate against {@code cas}: {status bits, return code}. */
    int[] verifyAgainst(List<X509Cert> cas) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment list = a.allocate(ValueLayout.ADDRESS);
            list.set(ValueLayout.ADDRESS, 0, crt);
            MemorySegment caList = a.allocate(ValueLayout.ADDRESS, Math.max(1, cas.size()));
            for (int i = 0; i < cas.size(); i++) {
                caList.setAtIndex(ValueLayout.ADDRESS, i, cas.get(i).crt);
            }
            MemorySegment status = a.allocate(ValueLayout.JAVA_INT);
            int r = (int) GnutlsX509.gnutls_x509_crt_list_verify().invokeExact(list, 1, caList, cas.size(),
                    MemorySegment.NULL, 0, 0, status);
            return new int[] {status.get(ValueLayout.JAVA_INT, 0), r};
        } catch (Throwable t) {
            throw Gt.rethrow(t);
        }
    }

    boolean checkHostname(String hostname) {
        try (Arena a = Arena.ofConfined()) {
            return (int) GnutlsX509.gnutls_x509_crt_check_hostname().invokeExact(crt, a.allocateFrom(hostname)) != 0;
        } catch (Throwable t) {
            throw Gt.rethrow(t);
        }
    }

    /** QEMU's reason text for a non-zero verification status. */
    static String statusReason(int status) {
        String reason = "Invalid certificate";
        if ((status & Gnutls.GNUTLS_CERT_INVALID) != 0) {
            reason = "The certificate is not trusted";
        }
        if ((status & Gnutls.GNUTLS_CERT_SIGNER_NOT_FOUND) != 0) {
            reason = "The certificate hasn't got a known issuer";
        }
        if ((status & Gnutls.GNUTLS_CERT_REVOKED) != 0) {
            reason = "The certificate has been revoked";
        }
        if ((status & Gnutls.GNUTLS_CERT_INSECURE_ALGORITHM) != 0) {
            reason = "The certificate uses an insecure algorithm";
        }
        return reason;
    }

    @Override
    public void close() {
        Gt.crtDeinit(crt);
        crt = MemorySegment.NULL;
    }
}
