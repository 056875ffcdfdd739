package io.isthmus.control.commands.qom;

import java.util.Map;

/** authz-simple: allows exactly one identity. */
public final class AuthzSimple extends AbstractQomObject implements Authz {
    private final String identity;

    public AuthzSimple(String id, Map<String, Object> props) {
        super(id, "authz-simple");
        this.identity = (String) props.get("identity");
    }

    @Override
    public boolean isAllowed(String who) {
        return identity.equals(who);
    }
}
