package io.isthmus.control.commands.qom;

import io.isthmus.control.ProgName;
import io.isthmus.control.QmpError;
import io.isthmus.control.qapi.QemuHashOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The /objects container: user-created objects by id, in creation order.
 *
 * <p>Threads: changes ({@link #add}, {@link #delete}, {@link #closeAll}) are made on the control thread only.
 * Reads ({@link #get}, {@link #all}) are safe from any thread: the map is copy-on-write, each change publishes a
 * new unmodifiable snapshot through a volatile field, so a reader sees one consistent state without locking.
 * This is what lets the NBD server resolve its {@code tls-authz} id lazily during a TLS handshake on an IoThread
 * (as QEMU resolves it at each check). An object a reader got may be deleted right after; objects used that way
 * must stay usable after {@link QomObject#close} or refuse deletion in {@link QomObject#checkDeletable}.
 * Object counts are small, so copying the map on each change costs nothing that matters.
 */
public final class ObjectRegistry {
    /** Never changed in place; replaced whole. (Not Map.of(): get(null) must answer null, not throw.) */
    private volatile Map<String, QomObject> objects = Collections.unmodifiableMap(new LinkedHashMap<>());
    /** The container's child table as QEMU's GHashTable orders it (qom-list /objects). Control thread. */
    private QemuHashOrder.GHashOrder childOrder = new QemuHashOrder.GHashOrder();

    /** Fails like QEMU when the id is taken. */
    public void checkFree(String id) throws QmpError {
        if (objects.containsKey(id)) {
            throw QmpError.generic("attempt to add duplicate property '" + id + "' to object (type 'container')");
        }
    }

    /** Control thread only. */
    public void add(QomObject object) throws QmpError {
        checkFree(object.id());
        Map<String, QomObject> next = new LinkedHashMap<>(objects);
        next.put(object.id(), object);
        objects = Collections.unmodifiableMap(next);
        childOrder.insert(object.id());
    }

    /** Any thread. */
    public QomObject get(String id) {
        return objects.get(id);
    }

    /** The object with this id if it has this type, else null. Any thread. */
    public <T> T get(String id, Class<T> type) {
        QomObject o = objects.get(id);
        return type.isInstance(o) ? type.cast(o) : null;
    }

    /** A snapshot of the objects in creation order. Any thread. */
    public Collection<QomObject> all() {
        return objects.values();
    }

    /** The ids in the order QEMU's qom-list of /objects shows them. Control thread only. */
    public List<String> childOrder() {
        return childOrder.order();
    }

    /** Control thread only. */
    public void delete(String id) throws QmpError {
        QomObject o = objects.get(id);
        if (o == null) {
            throw QmpError.generic("object '" + id + "' not found");
        }
        o.checkDeletable();
        Map<String, QomObject> next = new LinkedHashMap<>(objects);
        next.remove(id);
        objects = Collections.unmodifiableMap(next);
        childOrder.remove(id);
        o.close();
    }

    /** Shutdown: closes objects newest first. Control thread only. */
    public void closeAll() {
        List<QomObject> list = new ArrayList<>(objects.values());
        Collections.reverse(list);
        objects = Collections.unmodifiableMap(new LinkedHashMap<>());
        childOrder = new QemuHashOrder.GHashOrder();
        for (QomObject o : list) {
            try {
                o.close();
            } catch (RuntimeException e) {
                System.err.println(ProgName.NAME + ": closing object '" + o.id() + "': " + e.getMessage());
            }
        }
    }
}
