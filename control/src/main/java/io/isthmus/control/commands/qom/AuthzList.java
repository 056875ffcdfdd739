package io.isthmus.control.commands.qom;

import io.isthmus.engine.tls.Authz;
import java.util.Map;

/**
 * authz-list: an ordered rule list with a default policy (deny unless set). The rules are the engine's
 * {@link io.isthmus.engine.tls.AuthzList} (immutable), so {@link #isAllowed} is safe from any thread.
 */
public final class AuthzList extends AbstractQomObject implements Authz {
    private final io.isthmus.engine.tls.AuthzList rules;

    public AuthzList(String id, Map<String, Object> props) {
        super(id, "authz-list");
        this.rules = AuthzRules.from(props);
    }

    @Override
    public boolean isAllowed(String identity) {
        return rules.isAllowed(identity);
    }
}
