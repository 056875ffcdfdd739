package io.isthmus.control.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.isthmus.control.QmpError;
import io.isthmus.engine.tls.PskCredentials;
import io.isthmus.engine.tls.TlsCredentials;
import io.isthmus.engine.tls.TlsEndpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** object-add properties of tls-creds-* and the lookup nbd-server-start uses, with QEMU's texts. */
class TlsCredsObjectsTest {
    @BeforeAll
    static void gnutls() {
        assumeTrue(TlsCredentials.isSupported(), "libgnutls.so.30 is not installed");
    }

    static Map<String, Object> props(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    static String error(String type, Map<String, Object> props) {
        return assertThrows(QmpError.class, () -> object(type, "t", props, id -> {
            throw QmpError.generic("No secret with id '" + id + "'");
        })).desc();
    }

    /** What object-add does: create (properties), then complete (load). */
    static TlsCredsObject object(String type, String id, Map<String, Object> props,
                                 java.util.function.Function<String, String> secrets) {
        TlsCredsObject o = new TlsCredsObject(id, type, props, secrets);
        o.complete();
        return o;
    }

    @Test
    void loadErrorsCarryQemuTexts() {
        assertEquals("Unable to access credentials /nonexistent/ca-cert.pem: No such file or directory",
                error("tls-creds-x509", props("dir", "/nonexistent", "endpoint", "server")));
        assertEquals("Unable to access credentials /nonexistent/ca-cert.pem: No such file or directory",
                error("tls-creds-x509", props("dir", "/nonexistent")), "endpoint defaults to client");
        assertEquals("Unable to access credentials /nonexistent/keys.psk: No such file or directory",
                error("tls-creds-psk", props("dir", "/nonexistent", "endpoint", "server")));
        assertEquals("Missing 'dir' property value", error("tls-creds-psk", props("endpoint", "server")));
        assertEquals("Parameter 'endpoint' does not accept value 'middle'",
                error("tls-creds-anon", props("endpoint", "middle")));
        assertEquals("Unable to access credentials /nonexistent/ca-cert.pem: No such file or directory",
                error("tls-creds-x509", props("dir", "/nonexistent", "passwordid", "pw")),
                "the secret is looked up when the key is loaded, after the files");
        assertEquals("Property 'tls-creds-psk.loaded' is not writable",
                error("tls-creds-psk", props("dir", "/nonexistent", "loaded", true)));
    }

    @Test
    void pskAndAnonObjects(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("keys.psk"), "qemu:0123456789abcdef0123456789abcdef\n");
        TlsCredsObject psk = object("tls-creds-psk", "psk0",
                props("dir", dir.toString(), "endpoint", "server", "priority", "NORMAL"), id -> null);
        assertEquals("tls-creds-psk", psk.type());
        assertEquals(TlsEndpoint.SERVER, psk.credentials().endpoint());
        assertEquals("NORMAL:+ECDHE-PSK:+DHE-PSK:+PSK", psk.credentials().sessionPriority());
        TlsCredsObject client = object("tls-creds-psk", "psk1", props("dir", dir.toString()),
                id -> null);
        assertEquals("qemu", ((PskCredentials) client.credentials()).username());
        TlsCredsObject anon = object("tls-creds-anon", "anon0", props("endpoint", "server",
                "verify-peer", false), id -> null);
        assertEquals(false, anon.credentials().verifyPeer());
        psk.close();
        client.close();
        anon.close();
        anon.close();
        assertEquals(0, anon.credentials().references());
    }

    @Test
    void lookupForNbdServer(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("keys.psk"), "qemu:0123456789abcdef0123456789abcdef\n");
        Map<String, Object> objects = new HashMap<>();
        TlsCredsObject server = object("tls-creds-psk", "srv", props("dir", dir.toString(),
                "endpoint", "server"), id -> null);
        TlsCredsObject client = object("tls-creds-psk", "cli", props("dir", dir.toString()),
                id -> null);
        objects.put("srv", server);
        objects.put("cli", client);
        objects.put("io0", new Object());
        assertEquals("No TLS credentials with id 'nosuch'", assertThrows(QmpError.class,
                () -> TlsCredsLookup.serverCredentials(objects::get, "nosuch")).desc());
        assertEquals("Object with id 'io0' is not TLS credentials", assertThrows(QmpError.class,
                () -> TlsCredsLookup.serverCredentials(objects::get, "io0")).desc());
        assertEquals("Expected TLS credentials for a server endpoint", assertThrows(QmpError.class,
                () -> TlsCredsLookup.serverCredentials(objects::get, "cli")).desc());

        TlsCredentials creds = TlsCredsLookup.serverCredentials(objects::get, "srv");
        assertEquals(2, creds.references());
        server.close(); // object-del while the server uses them: succeeds, credentials stay loaded
        assertEquals(1, creds.references());
        assertTrue(creds.sessionPriority().startsWith("NORMAL"));
        creds.release(); // nbd-server-stop
        assertEquals(0, creds.references());
        client.close();
    }
}
