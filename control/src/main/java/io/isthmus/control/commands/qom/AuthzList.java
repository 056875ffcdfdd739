package io.isthmus.control.commands.qom;

import java.util.Map;

/** authz-list: an ordered rule list with a default policy (deny unless set). */
public final class AuthzList extends AbstractQomObject implements Authz {
    private final AuthzRules rules;

    public AuthzList(String id, Map<String, Object> props) {
        super(id, "authz-list");
        this.rules = AuthzRules.from(props);
    }

    @Override
    public boolean isAllowed(String identity) {
        return rules.isAllowed(identity);
    }
}
