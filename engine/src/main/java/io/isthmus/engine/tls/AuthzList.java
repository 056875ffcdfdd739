package io.isthmus.engine.tls;

import java.util.List;
import java.util.Objects;

/**
 * {@code authz-list}: rules checked in order, the first matching one decides; if none matches, the list's
 * {@code policy} (default deny) decides. Immutable; a change of rules (qom-set) makes a new instance.
 */
public record AuthzList(AuthzPolicy policy, List<AuthzRule> rules) implements Authz {
    public AuthzList {
        policy = policy == null ? AuthzPolicy.DENY : policy;
        rules = List.copyOf(Objects.requireNonNullElse(rules, List.of()));
    }

    @Override
    public boolean isAllowed(String identity) {
        for (AuthzRule rule : rules) {
            if (rule.matches(identity)) {
                return rule.policy() == AuthzPolicy.ALLOW;
            }
        }
        return policy == AuthzPolicy.ALLOW;
    }
}
