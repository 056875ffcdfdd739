package io.isthmus.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.invoke.MethodHandle;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import org.junit.jupiter.api.Test;

/**
 * Every GnuTLS downcall handle names a symbol libgnutls.so.30 exports (layouts and constants are checked against
 * the headers by {@link LayoutProbeTest}), and the library answers a trivial call.
 */
class GnutlsSymbolsTest {
    @Test
    void everyHandleResolves() throws Throwable {
        assumeTrue(Gnutls.isAvailable(), "libgnutls.so.30 is not installed");
        int handles = 0;
        for (Class<?> c : new Class<?>[] {Gnutls.class, GnutlsX509.class}) {
            for (Method m : c.getMethods()) {
                if (m.getReturnType() == MethodHandle.class && m.getParameterCount() == 0
                        && Modifier.isStatic(m.getModifiers())) {
                    assertTrue(Gnutls.LIB.get().find(m.getName()).isPresent(), m.getName());
                    assertNotNull(m.invoke(null), m.getName()); // links it
                    handles++;
                }
            }
        }
        assertTrue(handles >= 50, "handles: " + handles);
        java.lang.foreign.MemorySegment msg = (java.lang.foreign.MemorySegment) Gnutls.gnutls_strerror()
                .invokeExact(Gnutls.GNUTLS_E_AGAIN);
        assertEquals("Resource temporarily unavailable, try again.", msg.reinterpret(200).getString(0));
    }
}
