package io.isthmus.engine.tls;

/** QAPI {@code QAuthZListFormat}: how a rule's {@code match} is compared with the identity. */
public enum AuthzFormat {
    /** String equality. */
    EXACT("exact"),
    /** GLib's {@code g_pattern_match_simple}: {@code *} any run of characters, {@code ?} one character; nothing
     *  else is special (no brackets, no escapes). See {@link GlobPattern}. */
    GLOB("glob");

    private final String qapiName;

    AuthzFormat(String qapiName) {
        this.qapiName = qapiName;
    }

    public String qapiName() {
        return qapiName;
    }

    /** The format for a QAPI value, or null if it is not one. */
    public static AuthzFormat ofQapi(String name) {
        for (AuthzFormat f : values()) {
            if (f.qapiName.equals(name)) {
                return f;
            }
        }
        return null;
    }
}
