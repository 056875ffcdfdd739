package io.isthmus.engine.tls;

import java.util.Objects;

/** {@code authz-simple}: allows exactly one identity (exact string equality, as QEMU's {@code g_str_equal}). */
public record AuthzSimple(String identity) implements Authz {
    public AuthzSimple {
        Objects.requireNonNull(identity, "identity");
    }

    @Override
    public boolean isAllowed(String id) {
        return identity.equals(id);
    }
}
