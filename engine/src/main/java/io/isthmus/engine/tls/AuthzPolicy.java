package io.isthmus.engine.tls;

/** QAPI {@code QAuthZListPolicy}: what a matching rule (or the list's default) decides. */
public enum AuthzPolicy {
    DENY("deny"),
    ALLOW("allow");

    private final String qapiName;

    AuthzPolicy(String qapiName) {
        this.qapiName = qapiName;
    }

    public String qapiName() {
        return qapiName;
    }

    /** The policy for a QAPI value, or null if it is not one. */
    public static AuthzPolicy ofQapi(String name) {
        for (AuthzPolicy p : values()) {
            if (p.qapiName.equals(name)) {
                return p;
            }
        }
        return null;
    }
}
