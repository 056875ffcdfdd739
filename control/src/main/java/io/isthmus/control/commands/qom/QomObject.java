package io.isthmus.control.commands.qom;

import io.isthmus.control.QmpError;

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

    /** Releases what the object holds (object-del, shutdown). */
    default void close() {
    }
}
