package io.isthmus.control.commands.qom;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An authz-list rule set: the first rule whose {@code match} fits the identity ({@code exact} string
 * equality, or a {@code glob}) decides; otherwise the default policy. Immutable.
 */
public record AuthzRules(boolean defaultAllow, List<Rule> rules) {
    public record Rule(String match, boolean allow, boolean glob) {
    }

    /** From validated AuthZListProperties: {@code {"policy"?, "rules"?: [{match, policy, format?}]}}. */
    public static AuthzRules from(Map<String, Object> props) {
        boolean defaultAllow = "allow".equals(props.get("policy"));
        List<Rule> rules = new ArrayList<>();
        Object r = props.get("rules");
        if (r instanceof List<?> list) {
            for (Object o : list) {
                Map<?, ?> m = (Map<?, ?>) o;
                rules.add(new Rule((String) m.get("match"), "allow".equals(m.get("policy")),
                        "glob".equals(m.get("format"))));
            }
        }
        return new AuthzRules(defaultAllow, List.copyOf(rules));
    }

    public boolean isAllowed(String identity) {
        for (Rule rule : rules) {
            boolean hit = rule.glob() ? GlobPattern.matches(rule.match(), identity) : rule.match().equals(identity);
            if (hit) {
                return rule.allow();
            }
        }
        return defaultAllow;
    }
}
