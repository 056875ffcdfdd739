package io.isthmus.control.commands.qom;

import io.isthmus.engine.tls.AuthzFormat;
import io.isthmus.engine.tls.AuthzList;
import io.isthmus.engine.tls.AuthzPolicy;
import io.isthmus.engine.tls.AuthzRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns validated {@code AuthZListProperties} ({@code {"policy"?, "rules"?: [{match, policy, format?}]}}) into
 * the engine's {@link AuthzList}, which does the matching (first matching rule decides, else the policy; globs
 * as GLib's {@code g_pattern_match_simple}). Pure; any thread.
 */
public final class AuthzRules {
    private AuthzRules() {
    }

    /** The rule list for properties the QAPI validator has accepted (enum values are known to be valid). */
    public static AuthzList from(Map<String, Object> props) {
        AuthzPolicy policy = policy(props.get("policy"));
        List<AuthzRule> rules = new ArrayList<>();
        if (props.get("rules") instanceof List<?> list) {
            for (Object o : list) {
                Map<?, ?> m = (Map<?, ?>) o;
                AuthzFormat format = m.get("format") == null ? null : AuthzFormat.ofQapi((String) m.get("format"));
                rules.add(new AuthzRule((String) m.get("match"), policy(m.get("policy")), format));
            }
        }
        return new AuthzList(policy, rules);
    }

    private static AuthzPolicy policy(Object value) {
        AuthzPolicy p = value == null ? null : AuthzPolicy.ofQapi((String) value);
        return p == null ? AuthzPolicy.DENY : p;
    }
}
