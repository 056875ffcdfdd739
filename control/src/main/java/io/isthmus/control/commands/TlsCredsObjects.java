package io.isthmus.control.commands;

import io.isthmus.control.QmpError;
import io.isthmus.control.commands.qom.ObjectRegistry;
import io.isthmus.control.commands.qom.ObjectTypes;
import io.isthmus.control.commands.qom.QomObject;
import io.isthmus.control.commands.qom.SecretObject;
import java.util.function.Function;

/**
 * object-add support for the TLS credential types: registers {@code tls-creds-x509}, {@code tls-creds-psk} and
 * {@code tls-creds-anon} with the QOM object types; each object loads its credentials ({@link TlsCredsObject}),
 * reading {@code passwordid} secrets from the object registry.
 *
 * <p>Thread use: the control thread.
 */
public final class TlsCredsObjects implements CommandGroup {
    private final ObjectRegistry objects;
    private final ObjectTypes objectTypes;

    public TlsCredsObjects(ObjectRegistry objects, ObjectTypes objectTypes) {
        this.objects = objects;
        this.objectTypes = objectTypes;
    }

    @Override
    public void register(CommandRegistry registry) {
        Function<String, String> secrets = id -> secretText(objects, id);
        for (String type : TlsCredsObject.TYPES) {
            objectTypes.register(type, (id, props) -> new TlsCredsObject(id, type, props, secrets));
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
}
