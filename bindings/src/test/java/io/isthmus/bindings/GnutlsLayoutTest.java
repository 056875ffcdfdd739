package io.isthmus.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemoryLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves the GnuTLS bindings against the C headers: a probe compiled at test time with the system's
 * {@code <gnutls/gnutls.h>} prints sizes, offsets and the values of every constant the bindings declare, and
 * each must equal the Java side. Skipped only if gcc or the GnuTLS headers (libgnutls28-dev) are absent.
 */
@Timeout(60)
class GnutlsLayoutTest {
    @Test
    void layoutsAndConstantsMatchTheHeaders(@TempDir Path dir) throws Exception {
        assumeTrue(Files.exists(Path.of("/usr/include/gnutls/gnutls.h")), "GnuTLS headers not installed");
        Map<String, Long> java = new LinkedHashMap<>();
        java.put("sizeof(gnutls_datum_t)", Gnutls.gnutls_datum_t.byteSize());
        java.put("offsetof(gnutls_datum_t, data)",
                Gnutls.gnutls_datum_t.byteOffset(MemoryLayout.PathElement.groupElement("data")));
        java.put("offsetof(gnutls_datum_t, size)",
                Gnutls.gnutls_datum_t.byteOffset(MemoryLayout.PathElement.groupElement("size")));
        java.put("gnutls_datum_t_data", Gnutls.gnutls_datum_t_data);
        java.put("gnutls_datum_t_size", Gnutls.gnutls_datum_t_size);
        java.put("sizeof(time_t)", 8L);
        java.put("sizeof(size_t)", 8L);
        java.put("sizeof(ssize_t)", 8L);
        java.put("sizeof(unsigned int)", 4L);
        String[] constants = {"GNUTLS_SERVER", "GNUTLS_CLIENT", "GNUTLS_NONBLOCK", "GNUTLS_NO_SIGNAL",
                "GNUTLS_CRD_CERTIFICATE", "GNUTLS_CRD_ANON", "GNUTLS_CRD_SRP", "GNUTLS_CRD_PSK", "GNUTLS_CERT_IGNORE",
                "GNUTLS_CERT_REQUEST", "GNUTLS_CERT_REQUIRE", "GNUTLS_CERT_INVALID", "GNUTLS_CERT_REVOKED",
                "GNUTLS_CERT_SIGNER_NOT_FOUND", "GNUTLS_CERT_SIGNER_NOT_CA", "GNUTLS_CERT_INSECURE_ALGORITHM",
                "GNUTLS_CERT_NOT_ACTIVATED", "GNUTLS_CERT_EXPIRED", "GNUTLS_SHUT_RDWR", "GNUTLS_SHUT_WR",
                "GNUTLS_X509_FMT_DER", "GNUTLS_X509_FMT_PEM", "GNUTLS_SEC_PARAM_MEDIUM", "GNUTLS_PSK_KEY_RAW",
                "GNUTLS_PSK_KEY_HEX", "GNUTLS_KEY_DIGITAL_SIGNATURE", "GNUTLS_KEY_KEY_ENCIPHERMENT",
                "GNUTLS_KEY_KEY_CERT_SIGN", "GNUTLS_E_SUCCESS", "GNUTLS_E_FATAL_ALERT_RECEIVED",
                "GNUTLS_E_WARNING_ALERT_RECEIVED", "GNUTLS_E_AGAIN", "GNUTLS_E_REHANDSHAKE",
                "GNUTLS_E_NO_CERTIFICATE_FOUND", "GNUTLS_E_SHORT_MEMORY_BUFFER", "GNUTLS_E_INTERRUPTED",
                "GNUTLS_E_PUSH_ERROR", "GNUTLS_E_PULL_ERROR", "GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE",
                "GNUTLS_E_PREMATURE_TERMINATION"};
        for (String c : constants) {
            java.put(c, (long) Gnutls.class.getField(c).getInt(null));
        }
        StringBuilder c = new StringBuilder("""
                #include <stdio.h>
                #include <stddef.h>
                #include <time.h>
                #include <sys/types.h>
                #include <gnutls/gnutls.h>
                #include <gnutls/x509.h>
                int main(void) {
                """);
        for (String key : java.keySet()) {
            String expr = switch (key) {
                case "gnutls_datum_t_data" -> "offsetof(gnutls_datum_t, data)";
                case "gnutls_datum_t_size" -> "offsetof(gnutls_datum_t, size)";
                default -> key;
            };
            c.append("    printf(\"%s=%lld\\n\", \"").append(key).append("\", (long long)(").append(expr)
                    .append("));\n");
        }
        c.append("    printf(\"KP=%s|%s|%s\\n\", GNUTLS_KP_TLS_WWW_SERVER, GNUTLS_KP_TLS_WWW_CLIENT, GNUTLS_KP_ANY);\n");
        c.append("    return 0;\n}\n");
        Path src = dir.resolve("probe.c");
        Path exe = dir.resolve("probe");
        Files.writeString(src, c);
        String compile = run("gcc", "-o", exe.toString(), src.toString());
        assumeTrue(compile != null, "gcc is not installed");
        assertTrue(Files.isExecutable(exe), compile);
        String out = run(exe.toString());
        Map<String, String> c2 = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            int eq = line.indexOf('=');
            c2.put(line.substring(0, eq), line.substring(eq + 1));
        }
        for (Map.Entry<String, Long> e : java.entrySet()) {
            assertEquals(c2.get(e.getKey()), String.valueOf(e.getValue()), e.getKey());
        }
        assertEquals(GnutlsX509.GNUTLS_KP_TLS_WWW_SERVER + "|" + GnutlsX509.GNUTLS_KP_TLS_WWW_CLIENT + "|"
                + GnutlsX509.GNUTLS_KP_ANY, c2.get("KP"));
    }

    /** Runs a command; its output, or null if the program does not exist. */
    private static String run(String... cmd) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            return null;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return out;
    }

    @Test
    void libraryLoadsAndEveryHandleResolves() throws Throwable {
        assumeTrue(Gnutls.isAvailable(), "libgnutls.so.30 is not installed");
        for (var f : Gnutls.class.getFields()) {
            if (f.getType() == java.lang.invoke.MethodHandle.class) {
                assertTrue(Gnutls.LIB.get().find(f.getName()).isPresent(), f.getName());
            }
        }
        for (var f : GnutlsX509.class.getFields()) {
            if (f.getType() == java.lang.invoke.MethodHandle.class) {
                assertTrue(Gnutls.LIB.get().find(f.getName()).isPresent(), f.getName());
            }
        }
    }
}
