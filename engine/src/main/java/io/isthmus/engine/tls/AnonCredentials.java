package io.isthmus.engine.tls;

import io.isthmus.bindings.Gnutls;
import io.isthmus.engine.EngineException;
import java.lang.foreign.MemorySegment;

/**
 * {@code tls-creds-anon}: anonymous Diffie-Hellman (encryption without authentication). A server takes an
 * optional {@code DIR/dh-params.pem}; without a directory nothing is read (as in QEMU, where {@code dir} is
 * optional here).
 *
 * <p>Threading and memory as {@link TlsCredentials}.
 */
public final class AnonCredentials extends TlsCredentials {
    static final String ANON_PRIORITY_SUFFIX = ":+ANON-DH";

    private MemorySegment cred;

    private AnonCredentials(TlsEndpoint endpoint, String dir, boolean verifyPeer, String priority) {
        super(endpoint, dir, verifyPeer, priority);
    }

    /** Loads anonymous credentials as QEMU's {@code tls-creds-anon} does; throws with QEMU's text. */
    public static AnonCredentials load(TlsEndpoint endpoint, String dir, boolean verifyPeer, String priority) {
        AnonCredentials c = new AnonCredentials(endpoint, dir, verifyPeer, priority);
        if (endpoint == TlsEndpoint.SERVER) {
            String dhFile = CredentialFiles.path(dir, CredentialFiles.DH_PARAMS, false);
            c.cred = Gt.allocate(Gnutls.gnutls_anon_allocate_server_credentials(), "Cannot allocate credentials");
            try {
                c.dhParams = loadDhParams(dhFile);
                if (c.dhParams.equals(MemorySegment.NULL)) {
                    int r = (int) Gnutls.gnutls_anon_set_server_known_dh_params().invokeExact(c.cred,
                            Gnutls.GNUTLS_SEC_PARAM_MEDIUM);
                    if (r < 0) {
                        throw new EngineException("Unable to initialize DH parameters: " + Gt.strerror(r));
                    }
                } else {
                    Gnutls.gnutls_anon_set_server_dh_params().invokeExact(c.cred, c.dhParams);
                }
            } catch (Throwable t) {
                c.release();
                if (t instanceof EngineException e) {
                    throw e;
                }
                throw Gt.rethrow(t);
            }
        } else {
            c.cred = Gt.allocate(Gnutls.gnutls_anon_allocate_client_credentials(), "Cannot allocate credentials");
        }
        return c;
    }

    @Override
    public String qomType() {
        return "tls-creds-anon";
    }

    @Override
    public String sessionPriority() {
        return (priority() != null ? priority() : DEFAULT_PRIORITY) + ANON_PRIORITY_SUFFIX;
    }

    @Override
    int credentialsType() {
        return Gnutls.GNUTLS_CRD_ANON;
    }

    @Override
    MemorySegment handle() {
        return cred;
    }

    @Override
    void free() {
        if (endpoint() == TlsEndpoint.SERVER) {
            Gt.free(Gnutls.gnutls_anon_free_server_credentials(), cred);
        } else {
            Gt.free(Gnutls.gnutls_anon_free_client_credentials(), cred);
        }
        cred = MemorySegment.NULL;
    }
}
