package io.isthmus.control.commands.qom;

import io.isthmus.engine.tls.Authz;
import java.util.Map;

/** authz-simple: allows exactly one identity (the engine's {@link io.isthmus.engine.tls.AuthzSimple}); any thread. */
public final class AuthzSimple extends AbstractQomObject implements Authz {
    private final io.isthmus.engine.tls.AuthzSimple simple;

    public AuthzSimple(String id, Map<String, Object> props) {
        super(id, "authz-simple");
        this.simple = new io.isthmus.engine.tls.AuthzSimple((String) props.get("identity"));
    }

    @Override
    public boolean isAllowed(String who) {
        return simple.isAllowed(who);
    }
}
