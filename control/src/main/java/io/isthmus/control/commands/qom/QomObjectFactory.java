package io.isthmus.control.commands.qom;

import io.isthmus.control.QmpError;
import java.util.Map;

/**
 * Creates one qom-type's objects from validated properties (the object-add arguments without
 * {@code qom-type} and {@code id}). Register with {@link ObjectTypes#register}.
 */
@FunctionalInterface
public interface QomObjectFactory {
    QomObject create(String id, Map<String, Object> props) throws QmpError;
}
