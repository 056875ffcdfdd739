package io.isthmus.engine.tls;

import io.isthmus.bindings.Gnutls;
import io.isthmus.bindings.GnutlsX509;
import io.isthmus.engine.mem.NativeMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Typed wrappers over the GnuTLS downcall handles ({@code invokeExact} with the exact descriptor types), so the
 * TLS classes read like C. Return values keep GnuTLS's convention ({@code >= 0} or a negative
 * {@code GNUTLS_E_*}); nothing is mapped here.
 *
 * <p>Thread use: any thread; the caller owns every segment it passes and keeps it alive for the call.
 * Unexpected {@link Throwable}s from the method handles (only {@link UnsatisfiedLinkError} when the library is
 * absent) are rethrown unchecked.
 */
final class Gt {
    private Gt() {}

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    static String cString(MemorySegment p) {
        return p.equals(MemorySegment.NULL) ? null : NativeMemory.EVERYTHING.getString(p.address());
    }

    /** gnutls_strerror text of a GnuTLS error code. */
    static String strerror(int code) {
        try {
            String s = cString((MemorySegment) Gnutls.gnutls_strerror().invokeExact(code));
            return s == null ? "Unknown error " + code : s;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static String version() {
        try {
            return cString((MemorySegment) Gnutls.gnutls_check_version().invokeExact(MemorySegment.NULL));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Calls an allocation function {@code int f(T *out)} and returns the handle, or throws with the message. */
    static MemorySegment allocate(java.lang.invoke.MethodHandle alloc, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ValueLayout.ADDRESS);
            int r = (int) alloc.invokeExact(out);
            if (r < 0) {
                throw new io.isthmus.engine.EngineException(what + ": " + strerror(r));
            }
            return out.get(ValueLayout.ADDRESS, 0);
        } catch (io.isthmus.engine.EngineException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void free(java.lang.invoke.MethodHandle free, MemorySegment handle) {
        if (handle == null || handle.equals(MemorySegment.NULL)) {
            return;
        }
        try {
            free.invokeExact(handle);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- session
    static int handshake(MemorySegment s) {
        try {
            return (int) Gnutls.gnutls_handshake().invokeExact(s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long recordSend(MemorySegment s, MemorySegment data, long len) {
        try {
            return (long) Gnutls.gnutls_record_send().invokeExact(s, data, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long recordRecv(MemorySegment s, MemorySegment data, long len) {
        try {
            return (long) Gnutls.gnutls_record_recv().invokeExact(s, data, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long recordCheckPending(MemorySegment s) {
        try {
            return (long) Gnutls.gnutls_record_check_pending().invokeExact(s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long recordMaxSize(MemorySegment s) {
        try {
            return (long) Gnutls.gnutls_record_get_max_size().invokeExact(s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int bye(MemorySegment s, int how) {
        try {
            return (int) Gnutls.gnutls_bye().invokeExact(s, how);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void setErrno(MemorySegment s, int err) {
        try {
            Gnutls.gnutls_transport_set_errno().invokeExact(s, err);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static String protocolName(MemorySegment s) {
        try {
            int v = (int) Gnutls.gnutls_protocol_get_version().invokeExact(s);
            return cString((MemorySegment) Gnutls.gnutls_protocol_get_name().invokeExact(v));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static String cipherName(MemorySegment s) {
        try {
            int c = (int) Gnutls.gnutls_cipher_get().invokeExact(s);
            return cString((MemorySegment) Gnutls.gnutls_cipher_get_name().invokeExact(c));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static String alertName(MemorySegment s) {
        try {
            int a = (int) Gnutls.gnutls_alert_get().invokeExact(s);
            return cString((MemorySegment) Gnutls.gnutls_alert_get_name().invokeExact(a));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- x509
    static void crtDeinit(MemorySegment crt) {
        free(GnutlsX509.gnutls_x509_crt_deinit(), crt);
    }
}
