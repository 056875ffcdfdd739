package io.isthmus.control.commands;

import io.isthmus.control.Daemon;
import io.isthmus.control.QmpError;
import io.isthmus.control.commands.qom.AuthzList;
import io.isthmus.control.commands.qom.AuthzListFile;
import io.isthmus.control.commands.qom.AuthzSimple;
import io.isthmus.control.commands.qom.IothreadObject;
import io.isthmus.control.commands.qom.ObjectTypes;
import io.isthmus.control.commands.qom.QomObject;
import io.isthmus.control.commands.qom.SecretObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The QOM group: object-add and object-del over the daemon's object registry, and the object types
 * this group implements (iothread, secret, authz-simple, authz-list, authz-listfile). Other groups add
 * types through {@link Daemon#objectTypes()} (the NBD group: tls-creds-x509/psk/anon).
 */
public final class QomCommands implements CommandGroup {
    private final Daemon daemon;

    public QomCommands(Daemon daemon) {
        this.daemon = daemon;
    }

    @Override
    public void register(CommandRegistry r) {
        ObjectTypes types = daemon.objectTypes();
        types.register("iothread", IothreadObject::new);
        types.register("secret", (id, props) -> new SecretObject(id, props, daemon.objects()));
        types.register("authz-simple", AuthzSimple::new);
        types.register("authz-list", AuthzList::new);
        types.register("authz-listfile", (id, props) -> new AuthzListFile(id, props, daemon.schema()));
        r.register("object-add", this::objectAdd);
        r.register("object-del", args -> {
            daemon.objects().delete((String) args.get("id"));
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
        QomObject obj = daemon.objectTypes().factory(type).create(id, props);
        daemon.objects().add(obj);
        try {
            obj.complete();
        } catch (RuntimeException e) {
            daemon.objects().delete(id);
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
