package io.isthmus.control.commands;

import io.isthmus.engine.tls.TlsCredentials;

/**
 * A {@code tls-creds-x509}, {@code tls-creds-psk} or {@code tls-creds-anon} object: its id and the loaded
 * engine credentials. The object holds one reference on the credentials; {@link #close()} (object-del, shutdown)
 * gives it up, so deleting credentials that the NBD server or a connection still uses succeeds and the native
 * credentials live on until their last user releases them (QEMU's refcounted behaviour).
 *
 * <p>Thread use: created and closed on the control thread; {@link #credentials()} may be handed to IoThreads
 * (they take their own reference through {@link TlsCredsLookup}).
 */
public final class TlsCredsObject {
    private final String id;
    private final TlsCredentials credentials;
    private boolean closed;

    TlsCredsObject(String id, TlsCredentials credentials) {
        this.id = id;
        this.credentials = credentials;
    }

    public String id() {
        return id;
    }

    /** The qom-type: tls-creds-x509, tls-creds-psk or tls-creds-anon. */
    public String type() {
        return credentials.qomType();
    }

    public TlsCredentials credentials() {
        return credentials;
    }

    /** Releases the object's reference on the credentials. Idempotent. */
    public void close() {
        if (!closed) {
            closed = true;
            credentials.release();
        }
    }
}
