package io.isthmus.control.commands;

import io.isthmus.control.QmpError;
import io.isthmus.control.commands.qom.AbstractQomObject;
import io.isthmus.engine.tls.TlsCredentials;
import java.util.Map;
import java.util.function.Function;

/**
 * A {@code tls-creds-x509}, {@code tls-creds-psk} or {@code tls-creds-anon} object. Properties are taken at
 * creation; the files are loaded in {@link #complete()} (QEMU's UserCreatable complete, after the id was added,
 * so a duplicate id is reported before a missing file). The object holds one reference on the loaded
 * credentials; {@link #close()} (object-del, shutdown) gives it up, so deleting credentials that the NBD server
 * or a connection still uses succeeds and the native credentials live on until their last user releases them.
 *
 * <p>Thread use: created, completed and closed on the control thread; {@link #credentials()} may be handed to
 * IoThreads (they take their own reference through {@link TlsCredsLookup}).
 */
public final class TlsCredsObject extends AbstractQomObject {
    private final Map<String, Object> props;
    private final Function<String, String> secrets;
    private TlsCredentials credentials;
    private boolean closed;

    TlsCredsObject(String id, String qomType, Map<String, Object> props, Function<String, String> secrets) {
        super(id, qomType);
        if (props.containsKey("loaded")) {
            // QEMU 7.2: the deprecated property is read-only; setting it fails before the id is added
            throw QmpError.generic("Property '" + qomType + ".loaded' is not writable");
        }
        this.props = new java.util.LinkedHashMap<>(props);
        this.secrets = secrets;
    }

    @Override
    public void complete() throws QmpError {
        credentials = TlsCredsObjects.load(type(), props, secrets);
    }

    /** The loaded credentials (after {@link #complete()}). */
    public TlsCredentials credentials() {
        if (credentials == null) {
            throw new IllegalStateException("TLS credentials '" + id() + "' are not loaded");
        }
        return credentials;
    }

    /** Releases the object's reference on the credentials. Idempotent. */
    @Override
    public void close() {
        if (!closed && credentials != null) {
            closed = true;
            credentials.release();
        }
    }
}
