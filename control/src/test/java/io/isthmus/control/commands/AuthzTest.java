package io.isthmus.control.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.Daemon;
import io.isthmus.control.QmpError;
import io.isthmus.control.commands.qom.Authz;
import io.isthmus.control.commands.qom.GlobPattern;
import io.isthmus.control.commands.qom.SecretObject;
import io.isthmus.control.json.Json;
import io.isthmus.control.qapi.QapiSchema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The QOM objects the NBD server will consult, created through object-add as a client would. */
class AuthzTest {
    private final Daemon daemon = new Daemon(QapiSchema.load(), () -> { });

    @SuppressWarnings("unchecked")
    private void add(String json) throws Exception {
        daemon.commands().execute("object-add", (Map<String, Object>) Json.parse(json));
    }

    @Test
    void globIsGlibSimplePattern() {
        assertTrue(GlobPattern.matches("CN=*", "CN=client.example.com,O=x"));
        assertTrue(GlobPattern.matches("a?c", "abc"));
        assertFalse(GlobPattern.matches("a?c", "ac"));
        assertTrue(GlobPattern.matches("*", ""));
        assertTrue(GlobPattern.matches("*a*b", "xxaxxb"));
        assertFalse(GlobPattern.matches("*a*b", "xxaxxbc"));
        assertFalse(GlobPattern.matches("[ab]", "a"), "brackets are literal in g_pattern_match_simple");
        assertTrue(GlobPattern.matches("[ab]", "[ab]"));
        assertTrue(GlobPattern.matches("é?", "éx"));
    }

    @Test
    void simpleAndList() throws Exception {
        add("{\"qom-type\": \"authz-simple\", \"id\": \"s\", \"identity\": \"CN=alice\"}");
        Authz s = daemon.objects().get("s", Authz.class);
        assertTrue(s.isAllowed("CN=alice"));
        assertFalse(s.isAllowed("CN=alice2"));

        add("{\"qom-type\": \"authz-list\", \"id\": \"l\", \"rules\": [{\"match\": \"CN=bob\", \"policy\": \"deny\"},"
                + " {\"match\": \"CN=b*\", \"policy\": \"allow\", \"format\": \"glob\"}]}");
        Authz l = daemon.objects().get("l", Authz.class);
        assertFalse(l.isAllowed("CN=bob"), "first matching rule wins");
        assertTrue(l.isAllowed("CN=bill"));
        assertFalse(l.isAllowed("CN=carol"), "default policy is deny");

        add("{\"qom-type\": \"authz-list\", \"id\": \"open\", \"policy\": \"allow\"}");
        assertTrue(daemon.objects().get("open", Authz.class).isAllowed("anyone"));
    }

    @Test
    void listfileLoadsAndRefreshes(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("authz.json");
        Files.writeString(f, "{\"policy\": \"deny\", \"rules\": [{\"match\": \"fred\", \"policy\": \"allow\", \"format\": \"exact\"}]}");
        add("{\"qom-type\": \"authz-listfile\", \"id\": \"f\", \"filename\": \"" + f + "\"}");
        Authz a = daemon.objects().get("f", Authz.class);
        assertTrue(a.isAllowed("fred"));
        assertFalse(a.isAllowed("bob"));

        Files.writeString(f, "{\"policy\": \"allow\", \"rules\": [{\"match\": \"fred\", \"policy\": \"deny\"}]}");
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 5000));
        assertFalse(a.isAllowed("fred"), "edited file takes effect");
        assertTrue(a.isAllowed("bob"));

        Files.writeString(f, "{not json");
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 10000));
        assertTrue(a.isAllowed("bob"), "a broken edit keeps the previous rules");

        Path g = dir.resolve("norefresh.json");
        Files.writeString(g, "{\"rules\": [{\"match\": \"x\", \"policy\": \"allow\"}]}");
        add("{\"qom-type\": \"authz-listfile\", \"id\": \"g\", \"filename\": \"" + g + "\", \"refresh\": false}");
        Files.writeString(g, "{\"policy\": \"allow\"}");
        Files.setLastModifiedTime(g, FileTime.fromMillis(System.currentTimeMillis() + 5000));
        assertFalse(daemon.objects().get("g", Authz.class).isAllowed("y"), "refresh=false ignores edits");
    }

    @Test
    void listfileErrors(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.json");
        Files.writeString(f, "[1]");
        QmpError e = assertThrows(QmpError.class,
                () -> add("{\"qom-type\": \"authz-listfile\", \"id\": \"f\", \"filename\": \"" + f + "\"}"));
        assertEquals("Invalid parameter type for 'obj', expected: dict", e.desc());
        assertEquals(null, daemon.objects().get("f"), "a failed object is not kept");
        Files.writeString(f, "{\"policy\": \"perhaps\"}");
        e = assertThrows(QmpError.class,
                () -> add("{\"qom-type\": \"authz-listfile\", \"id\": \"f\", \"filename\": \"" + f + "\"}"));
        assertEquals("Parameter 'policy' does not accept value 'perhaps'", e.desc());
    }

    @Test
    void secretFormatsAndEncryption(@TempDir Path dir) throws Exception {
        add("{\"qom-type\": \"secret\", \"id\": \"raw\", \"data\": \"letmein\"}");
        assertEquals("letmein", daemon.objects().get("raw", SecretObject.class).valueAsUtf8());
        Path f = dir.resolve("pw");
        Files.writeString(f, "bGV0bWVpbg==");
        add("{\"qom-type\": \"secret\", \"id\": \"b64\", \"file\": \"" + f + "\", \"format\": \"base64\"}");
        assertEquals("letmein", daemon.objects().get("b64", SecretObject.class).valueAsUtf8());

        // AES-256-CBC with a 32-byte master key, PKCS#7 padding, as QEMU's secret keyid/iv
        byte[] key = new byte[32];
        for (int i = 0; i < 32; i++) {
            key[i] = (byte) i;
        }
        byte[] iv = new byte[16];
        javax.crypto.Cipher c = javax.crypto.Cipher.getInstance("AES/CBC/PKCS5Padding");
        c.init(javax.crypto.Cipher.ENCRYPT_MODE, new javax.crypto.spec.SecretKeySpec(key, "AES"),
                new javax.crypto.spec.IvParameterSpec(iv));
        String ct = java.util.Base64.getEncoder().encodeToString(c.doFinal("s3cret".getBytes()));
        String k64 = java.util.Base64.getEncoder().encodeToString(key);
        add("{\"qom-type\": \"secret\", \"id\": \"master\", \"data\": \"" + k64 + "\", \"format\": \"base64\"}");
        add("{\"qom-type\": \"secret\", \"id\": \"enc\", \"data\": \"" + ct + "\", \"keyid\": \"master\", \"iv\": \""
                + java.util.Base64.getEncoder().encodeToString(iv) + "\", \"format\": \"raw\"}");
        assertEquals("s3cret", daemon.objects().get("enc", SecretObject.class).valueAsUtf8());
    }
}
