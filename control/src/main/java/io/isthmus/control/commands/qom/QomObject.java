package io.isthmus.control.commands.qom;

import io.isthmus.control.QmpError;
import java.util.List;

/** A user-creatable object (object-add / --object): its id, its qom-type, and its lifecycle. */
public interface QomObject {
    String id();

    String type();

    /**
     * Completes creation once the object is in the registry (QEMU's UserCreatable complete): loads files,
     * starts threads. On failure the object is removed again.
     */
    default void complete() throws QmpError {
    }

    /** Refuses deletion while something uses the object (QEMU's user_creatable_can_be_deleted). */
    default void checkDeletable() throws QmpError {
    }

    /**
     * qom-get of one of the type's own properties ({@code type} is answered by the caller). Objects that do
     * not describe their properties answer QEMU's not-found error.
     */
    default Object getProperty(String name) throws QmpError {
        throw propertyNotFound(type(), name);
    }

    /** qom-set of one of the type's own properties; {@code value} is the raw JSON value. */
    default void setProperty(String name, Object value) throws QmpError {
        throw propertyNotFound(type(), name);
    }

    /** The type's own properties as QEMU iterates them (glib's order): {name, QOM type} pairs, without {@code type}. */
    default List<String[]> properties() {
        return List.of();
    }

    /** QEMU's object_property_find_err() text. */
    static QmpError propertyNotFound(String typeName, String property) {
        return QmpError.generic("Property '" + typeName + "." + property + "' not found");
    }

    /** Releases what the object holds (object-del, shutdown). */
    default void close() {
    }
}
