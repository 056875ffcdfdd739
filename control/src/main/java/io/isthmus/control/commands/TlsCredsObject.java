package io.isthmus.control.commands;

import io.isthmus.control.QmpError;
import io.isthmus.control.commands.qom.AbstractQomObject;
import io.isthmus.engine.EngineException;
import io.isthmus.engine.tls.AnonCredentials;
import io.isthmus.engine.tls.PskCredentials;
import io.isthmus.engine.tls.TlsCredentials;
import io.isthmus.engine.tls.TlsEndpoint;
import io.isthmus.engine.tls.X509Credentials;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A {@code tls-creds-x509}, {@code tls-creds-psk} or {@code tls-creds-anon} object. Properties are taken at
 * creation; the files are loaded in {@link #complete()} (QEMU's UserCreatable complete, after the id was added,
 * so a duplicate id is reported before a missing file), with QEMU's defaults ({@code endpoint} client,
 * {@code verify-peer} true, {@code sanity-check} true) and error texts. The object holds one reference on the loaded
 * credentials; {@link #close()} (object-del, shutdown) gives it up, so deleting credentials that the NBD server
 * or a connection still uses succeeds and the native credentials live on until their last user releases them.
 *
 * <p>Thread use: created, completed and closed on the control thread; {@link #credentials()} may be handed to
 * IoThreads (they take their own reference through {@link TlsCredsLookup}).
 */
public final class TlsCredsObject extends AbstractQomObject {
    public static final String X509 = "tls-creds-x509", PSK = "tls-creds-psk", ANON = "tls-creds-anon";
    public static final List<String> TYPES = List.of(X509, PSK, ANON);

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
        credentials = load(type(), props, secrets);
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

    /**
     * Loads the credentials one object describes.
     *
     * @param secrets resolves {@code passwordid} to the secret's UTF-8 text, throwing QEMU's error for an unknown
     *                id or an object that is not a secret (the secret objects belong to the QOM group)
     * @throws QmpError GenericError with QEMU's text
     */
    static TlsCredentials load(String qomType, Map<String, Object> props, Function<String, String> secrets) {
        if (!TlsCredentials.isSupported()) {
            throw QmpError.generic("TLS credentials support requires GNUTLS");
        }
        TlsEndpoint endpoint = endpoint(props.get("endpoint"));
        boolean verifyPeer = bool(props, "verify-peer", true);
        String dir = (String) props.get("dir");
        String priority = (String) props.get("priority");
        try {
            return switch (qomType) {
                case X509 -> {
                    String passwordId = (String) props.get("passwordid");
                    yield X509Credentials.load(endpoint, dir, verifyPeer, priority, bool(props, "sanity-check", true),
                            passwordId == null ? null : () -> secrets.apply(passwordId));
                }
                case PSK -> PskCredentials.load(endpoint, dir, verifyPeer, priority, (String) props.get("username"));
                case ANON -> AnonCredentials.load(endpoint, dir, verifyPeer, priority);
                default -> throw QmpError.generic("Parameter 'qom-type' does not accept value '" + qomType + "'");
            };
        } catch (EngineException e) {
            throw QmpError.generic(e.getMessage());
        }
    }

    private static TlsEndpoint endpoint(Object value) {
        if (value == null) {
            return TlsEndpoint.CLIENT;
        }
        TlsEndpoint e = TlsEndpoint.ofQapi((String) value);
        if (e == null) {
            throw QmpError.generic("Parameter 'endpoint' does not accept value '" + value + "'");
        }
        return e;
    }

    private static boolean bool(Map<String, Object> props, String name, boolean dflt) {
        Object v = props.get(name);
        return v == null ? dflt : (Boolean) v;
    }
}
