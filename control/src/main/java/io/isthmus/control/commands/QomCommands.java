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
import io.isthmus.control.commands.qom.ThrottleGroupObject;
import io.isthmus.control.qapi.QapiSchema;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
        types.register("throttle-group", (id, props) -> new ThrottleGroupObject(id, props, schema));
        r.register("object-add", this::objectAdd);
        r.register("qom-get", args -> qomGet((String) args.get("path"), (String) args.get("property")));
        r.register("qom-set", args -> {
            qomSet((String) args.get("path"), (String) args.get("property"), args.get("value"));
            return null;
        });
        r.register("qom-list", args -> qomList((String) args.get("path")));
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

    /** The /objects container, as a path resolves to it. */
    private static final Object CONTAINER = new Object();

    /**
     * object_resolve_path() over the part of QSD's QOM tree Isthmus has: {@code /objects} and its children,
     * by absolute path or by a partial path (a suffix of one: {@code ID}, {@code objects/ID}, {@code objects}).
     */
    private Object resolve(String path) throws QmpError {
        String rel = path.startsWith("/") ? path.substring(1) : path;
        Object found = null;
        if (rel.equals("objects")) {
            found = CONTAINER;
        } else if (rel.startsWith("objects/")) {
            found = objects.get(rel.substring("objects/".length()));
        } else if (!path.startsWith("/") && !rel.contains("/")) {
            found = objects.get(rel);
        }
        if (found == null) {
            throw new QmpError(QmpError.DEVICE_NOT_FOUND, "Device '" + path + "' not found");
        }
        return found;
    }

    private Object qomGet(String path, String property) throws QmpError {
        Object o = resolve(path);
        String type = o == CONTAINER ? "container" : ((QomObject) o).type();
        if (property.equals("type")) {
            return type;
        }
        if (o == CONTAINER) {
            throw QomObject.propertyNotFound(type, property);
        }
        return ((QomObject) o).getProperty(property);
    }

    private void qomSet(String path, String property, Object value) throws QmpError {
        Object o = resolve(path);
        if (o == CONTAINER) {
            throw property.equals("type") ? QmpError.generic("Insufficient permission to perform this operation")
                    : QomObject.propertyNotFound("container", property);
        }
        if (property.equals("type")) {
            throw QmpError.generic("Insufficient permission to perform this operation");
        }
        ((QomObject) o).setProperty(property, value);
    }

    private Object qomList(String path) throws QmpError {
        Object o = resolve(path);
        // QEMU iterates the object's own properties (the container's children), then its class's, then
        // Object's ("type"), and builds the reply list by prepending: the reply is that order reversed.
        List<Object> out = new ArrayList<>();
        if (o == CONTAINER) {
            for (String id : objects.childOrder()) {
                out.add(propertyInfo(id, "child<" + objects.get(id).type() + ">"));
            }
        } else {
            for (String[] p : ((QomObject) o).properties()) {
                out.add(propertyInfo(p[0], p[1]));
            }
        }
        out.add(propertyInfo("type", "string"));
        return out.reversed();
    }

    private static Map<String, Object> propertyInfo(String name, String type) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("type", type);
        return m;
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
