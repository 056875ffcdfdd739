package io.isthmus.control.commands.qom;

import io.isthmus.control.QmpError;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The /objects container: user-created objects by id. Control thread only. */
public final class ObjectRegistry {
    private final Map<String, QomObject> objects = new LinkedHashMap<>();

    /** Fails like QEMU when the id is taken. */
    public void checkFree(String id) throws QmpError {
        if (objects.containsKey(id)) {
            throw QmpError.generic("attempt to add duplicate property '" + id + "' to object (type 'container')");
        }
    }

    public void add(QomObject object) throws QmpError {
        checkFree(object.id());
        objects.put(object.id(), object);
    }

    public QomObject get(String id) {
        return objects.get(id);
    }

    /** The object with this id if it has this type, else null. */
    public <T> T get(String id, Class<T> type) {
        QomObject o = objects.get(id);
        return type.isInstance(o) ? type.cast(o) : null;
    }

    public Collection<QomObject> all() {
        return Collections.unmodifiableCollection(objects.values());
    }

    public void delete(String id) throws QmpError {
        QomObject o = objects.get(id);
        if (o == null) {
            throw QmpError.generic("object '" + id + "' not found");
        }
        o.checkDeletable();
        objects.remove(id);
        o.close();
    }

    /** Shutdown: closes objects newest first. */
    public void closeAll() {
        List<QomObject> list = new ArrayList<>(objects.values());
        Collections.reverse(list);
        objects.clear();
        for (QomObject o : list) {
            try {
                o.close();
            } catch (RuntimeException e) {
                System.err.println("isthmus: closing object '" + o.id() + "': " + e.getMessage());
            }
        }
    }
}
