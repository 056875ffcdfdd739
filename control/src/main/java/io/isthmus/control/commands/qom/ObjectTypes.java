package io.isthmus.control.commands.qom;

import io.isthmus.control.QmpError;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The qom-types object-add can create. A type the schema knows but nobody registered a factory for
 * (tls-creds-* until the NBD helper adds them) is refused the way QSD refuses a type it was built
 * without: {@code Parameter 'qom-type' does not accept value 'TYPE'}.
 */
public final class ObjectTypes {
    private final Map<String, QomObjectFactory> factories = new TreeMap<>();

    public void register(String qomType, QomObjectFactory factory) {
        if (factories.putIfAbsent(qomType, factory) != null) {
            throw new IllegalStateException("qom-type registered twice: " + qomType);
        }
    }

    public Set<String> names() {
        return factories.keySet();
    }

    public QomObjectFactory factory(String qomType) throws QmpError {
        QomObjectFactory f = factories.get(qomType);
        if (f == null) {
            throw QmpError.generic("Parameter 'qom-type' does not accept value '" + qomType + "'");
        }
        return f;
    }
}
