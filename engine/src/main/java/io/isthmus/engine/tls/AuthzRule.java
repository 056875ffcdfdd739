package io.isthmus.engine.tls;

import java.util.Objects;

/**
 * One {@code QAuthZListRule}: {@code match}, {@code policy}, optional {@code format} (absent = exact). The glob
 * pattern is compiled once.
 */
public record AuthzRule(String match, AuthzPolicy policy, AuthzFormat format) {
    public AuthzRule {
        Objects.requireNonNull(match, "match");
        Objects.requireNonNull(policy, "policy");
    }

    /** The effective format ({@code exact} when absent). */
    public AuthzFormat effectiveFormat() {
        return format == null ? AuthzFormat.EXACT : format;
    }

    /** True if this rule applies to {@code identity}. */
    public boolean matches(String identity) {
        return switch (effectiveFormat()) {
            case EXACT -> match.equals(identity);
            case GLOB -> GlobPattern.matches(match, identity);
        };
    }
}
