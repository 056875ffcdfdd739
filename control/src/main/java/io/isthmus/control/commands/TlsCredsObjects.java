package io.isthmus.control.commands;

import io.isthmus.control.Daemon;
import io.isthmus.control.QmpError;
import io.isthmus.control.commands.qom.ObjectRegistry;
import io.isthmus.control.commands.qom.QomObject;
import io.isthmus.control.commands.qom.SecretObject;
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
 * object-add support for the TLS credential types: registers {@code tls-creds-x509}, {@code tls-creds-psk} and
 * {@code tls-creds-anon} with the QOM object types, and turns validated properties (the object-add arguments
 * without {@code qom-type} and {@code id}) into loaded engine credentials with QEMU's defaults ({@code endpoint}
 * client, {@code verify-peer} true, {@code sanity-check} true) and QEMU's error texts.
 *
 * <p>Thread use: the control thread (loading reads files).
 */
public final class TlsCredsObjects implements CommandGroup {
    private final Daemon daemon;

    public TlsCredsObjects(Daemon daemon) {
        this.daemon = daemon;
    }

    @Override
    public void register(CommandRegistry registry) {
        ObjectRegistry objects = daemon.objects();
        Function<String, String> secrets = id -> secretText(objects, id);
        for (String type : TYPES) {
            daemon.objectTypes().register(type, (id, props) -> new TlsCredsObject(id, type, props, secrets));
        }
    }

    /** QEMU's qcrypto_secret_lookup_as_utf8 for {@code passwordid}. */
    static String secretText(ObjectRegistry objects, String id) {
        QomObject o = objects.get(id);
        if (o == null) {
            throw QmpError.generic("No secret with id '" + id + "'");
        }
        if (!(o instanceof SecretObject secret)) {
            throw QmpError.generic("Object with id '" + id + "' is not a secret");
        }
        return secret.valueAsUtf8();
    }

    public static final String X509 = "tls-creds-x509", PSK = "tls-creds-psk", ANON = "tls-creds-anon";
    public static final List<String> TYPES = List.of(X509, PSK, ANON);

    /**
     * Loads the credentials one object describes.
     *
     * @param secrets resolves {@code passwordid} to the secret's UTF-8 text, throwing QEMU's error for an unknown
     *                id or an object that is not a secret (the secret objects belong to the QOM group)
     * @throws QmpError GenericError with QEMU's text
     */
    public static TlsCredentials load(String qomType, Map<String, Object> props, Function<String, String> secrets) {
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
