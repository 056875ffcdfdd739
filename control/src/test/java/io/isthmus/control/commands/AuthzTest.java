package io.isthmus.control.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.Daemon;
import io.isthmus.control.QmpError;
import io.isthmus.control.commands.qom.AuthzSimple;
import io.isthmus.control.commands.qom.ObjectRegistry;
import io.isthmus.control.commands.qom.QomObject;
import io.isthmus.control.commands.qom.SecretObject;
import io.isthmus.control.json.Json;
import io.isthmus.control.qapi.QapiSchema;
import io.isthmus.engine.tls.Authz;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The QOM objects the NBD server will consult, created through object-add as a client would. Matching itself is
 * the engine's ({@code io.isthmus.engine.tls.AuthzTest} covers globs and rule order); here: the QOM properties,
 * the authz-listfile file format, its refresh and its QEMU error texts, secrets, and the registry's thread use.
 */
class AuthzTest {
    private final Daemon daemon = Daemon.create(QapiSchema.load());

    @SuppressWarnings("unchecked")
    private void add(String json) throws Exception {
        daemon.commands().execute("object-add", (Map<String, Object>) Json.parse(json));
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
        assertFalse(a.isAllowed("bob"), "a failed reload drops the rules and denies everything, as in QEMU");

        Files.writeString(f, "{\"policy\": \"allow\"}");
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 15000));
        assertTrue(a.isAllowed("bob"), "a fixed file loads again");

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
        assertEquals("File '" + f + "' must contain a JSON object", e.desc(), "QEMU 7.2's text (authz/listfile.c)");
        assertEquals(null, daemon.objects().get("f"), "a failed object is not kept");
        Files.writeString(f, "{\"policy\": \"perhaps\"}");
        e = assertThrows(QmpError.class,
                () -> add("{\"qom-type\": \"authz-listfile\", \"id\": \"f\", \"filename\": \"" + f + "\"}"));
        assertEquals("Parameter 'policy' does not accept value 'perhaps'", e.desc());
    }

    private static final String DN = "C=GB,L=London,O=Example,CN=client.example.com";

    private String listfile(Path f, boolean refresh) {
        return "{\"qom-type\": \"authz-listfile\", \"id\": \"lf\", \"filename\": \"" + f + "\", \"refresh\": "
                + refresh + "}";
    }

    private String listfileError(Path f) {
        QmpError e = assertThrows(QmpError.class, () -> add(listfile(f, true)));
        assertNull(daemon.objects().get("lf"), "a failed object is not kept");
        return e.desc();
    }

    @Test
    void listfileGlobRulesEscapesAndEmptyList(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("acl.json");
        Files.writeString(f, """
                {"policy": "deny",
                 "rules": [{"match": "C=GB,*", "policy": "allow", "format": "glob"},
                           {"match": "CN=\\u0061dmin", "policy": "allow"}]}
                """);
        add(listfile(f, true));
        Authz lf = daemon.objects().get("lf", Authz.class);
        assertTrue(lf.isAllowed(DN));
        assertTrue(lf.isAllowed("CN=admin"), "JSON escapes are decoded");
        assertFalse(lf.isAllowed("C=FR,CN=x"));

        Files.writeString(f, "{\"policy\": \"allow\", \"rules\": [{\"match\": \"C=GB,*\", \"policy\": \"deny\","
                + " \"format\": \"glob\"}]}");
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 5000));
        assertFalse(lf.isAllowed(DN), "refreshed");
        assertTrue(lf.isAllowed("C=FR,CN=x"));

        Files.writeString(f, "{}");
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 10000));
        assertFalse(lf.isAllowed("C=FR,CN=x"), "empty list, default deny");

        Files.writeString(f, "{\"policy\": \"allow\"}");
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 15000));
        assertTrue(lf.isAllowed("anyone"));
        Files.delete(f);
        assertTrue(lf.isAllowed("anyone"), "a deleted file keeps the rules in force (QEMU ignores deletion)");
        Files.writeString(f, "{\"policy\": \"deny\"}");
        assertFalse(lf.isAllowed("anyone"), "re-creating the file is a change");
    }

    @Test
    void listfileWithoutRefreshKeepsItsFirstContent(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("acl.json");
        Files.writeString(f, "{\"policy\": \"allow\"}");
        add(listfile(f, false));
        Files.writeString(f, "{\"policy\": \"deny\"}");
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 5000));
        assertTrue(daemon.objects().get("lf", Authz.class).isAllowed("anyone"));
    }

    @Test
    void listfileFileErrors(@TempDir Path dir) throws Exception {
        QmpError e = assertThrows(QmpError.class,
                () -> add("{\"qom-type\": \"authz-listfile\", \"id\": \"lf\"}"));
        assertEquals("Parameter 'filename' is missing", e.desc());
        assertEquals("Unable to read '/nonexistent/acl.json': Failed to open file \u201c/nonexistent/acl.json\u201d:"
                + " No such file or directory", listfileError(Path.of("/nonexistent/acl.json")));
        Path f = dir.resolve("acl.json");
        Files.writeString(f, "{\"policy\": \"deny\"} x");
        assertEquals("Expecting at most one JSON value", listfileError(f));
        Files.writeString(f, "{broken");
        assertEquals("JSON parse error, invalid keyword 'broken'", listfileError(f));
        Files.writeString(f, "[".repeat(1025));
        assertEquals("JSON nesting depth limit exceeded", listfileError(f), "deep nesting is refused, not a crash");
    }

    @Test
    void listfileMemberErrorsAreQomPropertyErrors(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("acl.json");
        Files.writeString(f, "{\"policy\": \"maybe\"}");
        assertEquals("Parameter 'policy' does not accept value 'maybe'", listfileError(f));
        Files.writeString(f, "{\"policy\": 1}");
        assertEquals("Invalid parameter type for 'policy', expected: string", listfileError(f));
        Files.writeString(f, "{\"rules\": [{\"policy\": \"allow\"}]}");
        assertEquals("Parameter 'rules[0].match' is missing", listfileError(f));
        Files.writeString(f, "{\"rules\": [{\"match\": \"x\", \"policy\": \"allow\", \"format\": \"regex\"}]}");
        assertEquals("Parameter 'format' does not accept value 'regex'", listfileError(f),
                "QEMU names an enum member without its path (checked with qemu-storage-daemon 7.2's authz-list)");
        Files.writeString(f, "{\"rules\": {}}");
        assertEquals("Invalid parameter type for 'rules', expected: array", listfileError(f));
        // QEMU sets each member as a property of an authz-list (user_creatable_add_type): an unknown member is
        // a property that is not found
        Files.writeString(f, "{\"foo\": 1}");
        assertEquals("Property 'authz-list.foo' not found", listfileError(f));
    }

    @Test
    void listfileRefreshNeedsADirectory() throws Exception {
        Path f = Path.of("isthmus-authz-" + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".json");
        Files.writeString(f, "{}");
        try {
            assertEquals("Filename must be an absolute path", listfileError(f));
            add(listfile(f, false));
            assertFalse(daemon.objects().get("lf", Authz.class).isAllowed("x"));
        } finally {
            Files.deleteIfExists(f);
        }
    }

    @Test
    void secretKeyMustBeASecret() throws Exception {
        add("{\"qom-type\": \"iothread\", \"id\": \"t\"}");
        QmpError e = assertThrows(QmpError.class, () -> add("{\"qom-type\": \"secret\", \"id\": \"s\", \"data\": \"x\","
                + " \"keyid\": \"t\", \"iv\": \"AAAAAAAAAAAAAAAAAAAAAA==\", \"format\": \"base64\"}"));
        assertEquals("Object with id 't' is not a secret", e.desc(), "qemu-storage-daemon 7.2's text");
        e = assertThrows(QmpError.class, () -> add("{\"qom-type\": \"secret\", \"id\": \"s\", \"data\": \"x\","
                + " \"keyid\": \"nosuch\", \"iv\": \"AAAAAAAAAAAAAAAAAAAAAA==\"}"));
        assertEquals("No secret with id 'nosuch'", e.desc());
        daemon.objects().delete("t");
    }

    /** A TLS handshake on an IoThread looks up its tls-authz object while the control thread adds and deletes. */
    @Test
    @Timeout(30)
    void registryReadsAreSafeFromAnyThread() throws Exception {
        ObjectRegistry reg = new ObjectRegistry();
        add("{\"qom-type\": \"authz-simple\", \"id\": \"auth0\", \"identity\": \"CN=alice\"}");
        reg.add(daemon.objects().get("auth0"));
        AtomicBoolean stop = new AtomicBoolean();
        CompletableFuture<Long> reader = CompletableFuture.supplyAsync(() -> {
            long seen = 0;
            while (!stop.get()) {
                Authz a = reg.get("auth0", Authz.class);
                assertTrue(a != null && a.isAllowed("CN=alice"), "a stable object is always found");
                for (QomObject o : reg.all()) {
                    seen += o.id().length();
                }
            }
            return seen;
        });
        try {
            for (int i = 0; i < 20_000; i++) {
                String id = "o" + (i % 50);
                if (reg.get(id) == null) {
                    reg.add(new AuthzSimple(id, Map.of("identity", "x")));
                } else {
                    reg.delete(id);
                }
            }
        } finally {
            stop.set(true);
        }
        assertTrue(reader.get(20, TimeUnit.SECONDS) > 0);
        assertEquals("auth0", reg.all().iterator().next().id(), "creation order kept");
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
