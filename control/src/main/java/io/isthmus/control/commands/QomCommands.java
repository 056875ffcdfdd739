package io.isthmus.control.commands;

import io.isthmus.control.QmpError;
import io.isthmus.control.commands.qom.AuthzList;
import io.isthmus.control.commands.qom.AuthzListFile;
import io.isthmus.control.commands.qom.AuthzSimple;
import io.isthmus.control.commands.qom.IothreadObject;
import io.isthmus.control.commands.qom.ObjectRegistry;
import io.isthmus.control.commands.qom.ObjectTypes;
import io.isthmus.control.commands.qom.QomObject;
import io.isthmus.control.commands.qom.SecretObject;
import io.isthmus.control.qapi.QapiSchema;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The QOM group: object-add and object-del over the daemon's object registry, and the object types
 * this group implements (iothread, secret, authz-simple, authz-list, authz-listfile). Other groups add
 * types to the same {@link ObjectTypes} ({@link TlsCredsObjects}: tls-creds-x509/psk/anon).
 */
public final class QomCommands implements CommandGroup {
    private final QapiSchema schema;
    private final ObjectRegistry objects;
    private final ObjectTypes types;

    public QomCommands(QapiSchema schema, ObjectRegistry objects, ObjectTypes types) {
        this.schema = schema;
        this.objects = objects;
        this.types = types;
    }

    @Override
    public void register(CommandRegistry r) {
        types.register("iothread", IothreadObject::new);
        types.register("secret", (id, props) -> new SecretObject(id, props, objects));
        types.register("authz-simple", AuthzSimple::new);
        types.register("authz-list", AuthzList::new);
        types.register("authz-listfile", (id, props) -> new AuthzListFile(id, props, schema));
        r.register("object-add", this::objectAdd);
        r.register("object-del", args -> {
            objects.delete((String) args.get("id"));
            return null;
        });
    }

    /** object-add with validated ObjectOptions; also used by --object. */
    public Object objectAdd(Map<String, Object> args) throws QmpError {
        String type = (String) args.get("qom-type");
        String id = (String) args.get("id");
        if (!idWellformed(id)) {
            throw new QmpError(QmpError.GENERIC, "Parameter 'id' expects an identifier",
                    "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n");
        }
        Map<String, Object> props = new LinkedHashMap<>(args);
        props.remove("qom-type");
        props.remove("id");
        QomObject obj = types.factory(type).create(id, props);
        objects.add(obj);
        try {
            obj.complete();
        } catch (RuntimeException e) {
            objects.delete(id);
            throw e;
        }
        return null;
    }

    /** QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'. */
    public static boolean idWellformed(String id) {
        if (id == null || id.isEmpty() || !isAsciiLetter(id.charAt(0))) {
            return false;
        }
        for (int i = 1; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!isAsciiLetter(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.' && c != '_') {
                return false;
            }
        }
        return true;
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
}
