package io.isthmus.engine.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pure authorization logic: authz-simple, authz-list rules and policies, glob semantics. The authz-listfile object
 * (its JSON file and refresh) is the control plane's and is tested there ({@code io.isthmus.control.commands.AuthzTest}).
 */
class AuthzTest {
    static final String DN = "C=GB,L=London,O=Example,CN=client.example.com";

    @Test
    void simpleIsExactEquality() {
        Authz a = new AuthzSimple(DN);
        assertTrue(a.isAllowed(DN));
        assertFalse(a.isAllowed(DN + " "));
        assertFalse(a.isAllowed("c=GB,L=London,O=Example,CN=client.example.com"));
        assertFalse(a.isAllowed(""));
    }

    @Test
    void globIsGlibPatternMatchSimple() {
        assertTrue(GlobPattern.matches("*", ""));
        assertTrue(GlobPattern.matches("*", "anything"));
        assertTrue(GlobPattern.matches("C=GB,*,CN=*.example.com", DN));
        assertFalse(GlobPattern.matches("C=GB,*,CN=*.example.org", DN));
        assertTrue(GlobPattern.matches("a?c", "abc"));
        assertFalse(GlobPattern.matches("a?c", "ac"));
        assertTrue(GlobPattern.matches("a?c", "a\u00e9c"), "? is one character, also beyond ASCII");
        assertTrue(GlobPattern.matches("a??c", "a\uD83D\uDE00\u00e9c".replace("\u00e9", "x")));
        assertFalse(GlobPattern.matches("[ab]", "a"), "brackets are literal in GLib patterns");
        assertTrue(GlobPattern.matches("[ab]", "[ab]"));
        assertTrue(GlobPattern.matches("a\\*", "a\\xyz"), "backslash is literal");
        assertTrue(GlobPattern.matches("**a**b**", "xxaxxbxx"));
        assertFalse(GlobPattern.matches("*a*b", "xxaxxbxxc"));
        assertTrue(GlobPattern.matches("", ""));
        assertFalse(GlobPattern.matches("", "x"));
        // pathological input stays linear
        String many = "a".repeat(5000);
        assertFalse(GlobPattern.matches("*a*a*a*a*a*a*a*a*a*b", many));
    }

    @Test
    void globOnDistinguishedNames() {
        assertTrue(GlobPattern.matches("CN=*", "CN=client.example.com,O=x"));
        assertTrue(GlobPattern.matches("a?c", "abc"));
        assertFalse(GlobPattern.matches("a?c", "ac"));
        assertTrue(GlobPattern.matches("*", ""));
        assertTrue(GlobPattern.matches("*a*b", "xxaxxb"));
        assertFalse(GlobPattern.matches("*a*b", "xxaxxbc"));
        assertFalse(GlobPattern.matches("[ab]", "a"), "brackets are literal in g_pattern_match_simple");
        assertTrue(GlobPattern.matches("[ab]", "[ab]"));
        assertTrue(GlobPattern.matches("\u00e9?", "\u00e9x"));
    }

    @Test
    void listFirstMatchDecidesElsePolicy() {
        AuthzList l = new AuthzList(AuthzPolicy.DENY, List.of(
                new AuthzRule("C=GB,L=London,O=Example,CN=bad.example.com", AuthzPolicy.DENY, null),
                new AuthzRule("C=GB,*", AuthzPolicy.ALLOW, AuthzFormat.GLOB),
                new AuthzRule("C=GB,*", AuthzPolicy.DENY, AuthzFormat.EXACT)));
        assertTrue(l.isAllowed(DN));
        assertFalse(l.isAllowed("C=GB,L=London,O=Example,CN=bad.example.com"));
        assertFalse(l.isAllowed("C=FR,CN=x"));
        assertTrue(l.isAllowed("C=GB,*"), "the glob rule comes first and also matches its own text");
        AuthzList allowAll = new AuthzList(AuthzPolicy.ALLOW, List.of(
                new AuthzRule("C=FR,*", AuthzPolicy.DENY, AuthzFormat.GLOB)));
        assertTrue(allowAll.isAllowed(DN));
        assertFalse(allowAll.isAllowed("C=FR,O=x"));
        assertFalse(new AuthzList(null, null).isAllowed(DN), "default policy is deny");
        assertEquals(AuthzFormat.EXACT, new AuthzRule("x", AuthzPolicy.ALLOW, null).effectiveFormat());
    }

    @Test
    void qapiNames() {
        assertEquals(AuthzPolicy.ALLOW, AuthzPolicy.ofQapi("allow"));
        assertNull(AuthzPolicy.ofQapi("Allow"));
        assertEquals(AuthzFormat.GLOB, AuthzFormat.ofQapi("glob"));
        assertEquals("exact", AuthzFormat.EXACT.qapiName());
        assertEquals(TlsEndpoint.SERVER, TlsEndpoint.ofQapi("server"));
    }
}
