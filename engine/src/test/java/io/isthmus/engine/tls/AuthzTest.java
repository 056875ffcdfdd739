package io.isthmus.engine.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.EngineException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pure authorization logic: authz-simple, authz-list rules and policies, glob semantics, authz-listfile. */
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

    @Test
    void listFileLoadsAndRefreshes(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("acl.json");
        Files.writeString(f, """
                {"policy": "deny",
                 "rules": [{"match": "C=GB,*", "policy": "allow", "format": "glob"},
                           {"match": "CN=\\u0061dmin", "policy": "allow"}]}
                """);
        AuthzListFile lf = AuthzListFile.open(f.toString(), true);
        assertTrue(lf.isAllowed(DN));
        assertTrue(lf.isAllowed("CN=admin"), "JSON escapes are decoded");
        assertFalse(lf.isAllowed("C=FR,CN=x"));

        Files.writeString(f, "{\"policy\": \"allow\", \"rules\": [{\"match\": \"C=GB,*\", \"policy\": \"deny\","
                + " \"format\": \"glob\"}]}");
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 5000));
        assertFalse(lf.isAllowed(DN), "refreshed");
        assertTrue(lf.isAllowed("C=FR,CN=x"));

        Files.writeString(f, "{broken");
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 10000));
        assertFalse(lf.isAllowed("C=FR,CN=x"), "a failed reload denies everything, as in QEMU");
        assertNull(lf.current());

        Files.writeString(f, "{}");
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 15000));
        assertFalse(lf.isAllowed("C=FR,CN=x"), "empty list, default deny");
        assertEquals(AuthzPolicy.DENY, lf.current().policy());
    }

    @Test
    void listFileWithoutRefreshKeepsItsFirstContent(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("acl.json");
        Files.writeString(f, "{\"policy\": \"allow\"}");
        AuthzListFile lf = AuthzListFile.open(f.toString(), false);
        Files.writeString(f, "{\"policy\": \"deny\"}");
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 5000));
        assertTrue(lf.isAllowed("anyone"));
    }

    @Test
    void listFileErrors(@TempDir Path dir) throws Exception {
        assertEquals("filename not provided", error(null, true));
        assertEquals("Unable to read '/nonexistent/acl.json': Failed to open file \u201c/nonexistent/acl.json\u201d:"
                + " No such file or directory", error("/nonexistent/acl.json", true));
        Path f = dir.resolve("acl.json");
        Files.writeString(f, "[1]");
        assertEquals("File '" + f + "' must contain a JSON object", error(f.toString(), true));
        Files.writeString(f, "{\"policy\": \"maybe\"}");
        assertEquals("Parameter 'policy' does not accept value 'maybe'", error(f.toString(), true));
        Files.writeString(f, "{\"rules\": [{\"policy\": \"allow\"}]}");
        assertEquals("Parameter 'rules[0].match' is missing", error(f.toString(), true));
        Files.writeString(f, "{\"rules\": [{\"match\": \"x\", \"policy\": \"allow\", \"format\": \"regex\"}]}");
        assertEquals("Parameter 'rules[0].format' does not accept value 'regex'", error(f.toString(), true));
        Files.writeString(f, "{\"foo\": 1}");
        assertEquals("Parameter 'foo' is unexpected", error(f.toString(), true));
        Files.writeString(f, "{\"rules\": {}}");
        assertEquals("Invalid parameter type for 'rules', expected: array", error(f.toString(), true));
        Files.writeString(f, "{\"policy\": \"deny\"} x");
        assertTrue(error(f.toString(), true).startsWith("JSON parse error"));
        Files.writeString(f, "[".repeat(1000));
        assertTrue(error(f.toString(), true).startsWith("JSON parse error"), "deep nesting is refused, not a crash");
    }

    @Test
    void relativeFilenameNeedsNoRefresh() throws Exception {
        Path f = Path.of("isthmus-authz-" + ProcessHandle.current().pid() + ".json");
        Files.writeString(f, "{}");
        try {
            assertEquals("Filename must be an absolute path", error(f.toString(), true));
            assertFalse(AuthzListFile.open(f.toString(), false).isAllowed("x"));
        } finally {
            Files.deleteIfExists(f);
        }
    }

    private static String error(String file, boolean refresh) {
        return assertThrows(EngineException.class, () -> AuthzListFile.open(file, refresh)).getMessage();
    }
}
