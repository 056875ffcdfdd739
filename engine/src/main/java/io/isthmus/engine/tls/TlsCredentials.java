package io.isthmus.engine.tls;

import io.isthmus.bindings.Gnutls;
import io.isthmus.engine.EngineException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Loaded TLS credentials: one {@code tls-creds-x509}, {@code tls-creds-psk} or {@code tls-creds-anon} object's
 * GnuTLS credential handle plus the properties a session needs (endpoint, verify-peer, priority).
 *
 * <p>Lifetime: reference counted, like QEMU's QOM object. The creator holds the first reference and gives it up
 * with {@link #release()} (object-del); every {@link TlsSession} takes one for its own lifetime, so deleting
 * credentials that a server or a connection still uses succeeds and the native handle is freed by the last user.
 *
 * <p>Thread use: immutable after loading; the GnuTLS credential structures are only read by sessions, so any
 * number of sessions on any threads may use one instance. Memory: the native handles are owned by this object and
 * freed exactly once when the count reaches zero.
 */
public abstract sealed class TlsCredentials permits X509Credentials, PskCredentials, AnonCredentials {
    static final String DEFAULT_PRIORITY = "NORMAL";

    private final TlsEndpoint endpoint;
    private final String dir;
    private final boolean verifyPeer;
    private final String priority;
    private final AtomicInteger refs = new AtomicInteger(1);
    MemorySegment dhParams = MemorySegment.NULL;

    TlsCredentials(TlsEndpoint endpoint, String dir, boolean verifyPeer, String priority) {
        this.endpoint = endpoint;
        this.dir = dir;
        this.verifyPeer = verifyPeer;
        this.priority = priority;
    }

    /** True if libgnutls can be loaded; credentials cannot be created otherwise. */
    public static boolean isSupported() {
        return Gnutls.isAvailable();
    }

    /** The GnuTLS version string (e.g. "3.7.9"), for diagnostics. */
    public static String libraryVersion() {
        return Gt.version();
    }

    public final TlsEndpoint endpoint() {
        return endpoint;
    }

    /** The {@code dir} property, or null. */
    public final String dir() {
        return dir;
    }

    public final boolean verifyPeer() {
        return verifyPeer;
    }

    /** The {@code priority} property as given, or null. */
    public final String priority() {
        return priority;
    }

    /** The QOM type name: tls-creds-x509, tls-creds-psk or tls-creds-anon. */
    public abstract String qomType();

    /** The GnuTLS priority string a session is given (QEMU appends the key-exchange methods psk/anon need). */
    public abstract String sessionPriority();

    /** The text QEMU uses when the priority string is refused. */
    String priorityErrorPrefix() {
        return "Unable to set TLS session priority ";
    }

    /** gnutls_credentials_type_t for gnutls_credentials_set. */
    abstract int credentialsType();

    /** The native credentials handle for this endpoint. */
    abstract MemorySegment handle();

    /** Frees the native handles; called once, when the last reference is released. */
    abstract void free();

    /** Takes a reference (a session or a server using these credentials). */
    public final TlsCredentials retain() {
        int n;
        do {
            n = refs.get();
            if (n <= 0) {
                throw new IllegalStateException("TLS credentials already freed");
            }
        } while (!refs.compareAndSet(n, n + 1));
        return this;
    }

    /** Gives up a reference; the last one frees the native credentials. */
    public final void release() {
        int n = refs.decrementAndGet();
        if (n == 0) {
            free();
            Gt.free(Gnutls.gnutls_dh_params_deinit(), dhParams);
            dhParams = MemorySegment.NULL;
        } else if (n < 0) {
            throw new IllegalStateException("TLS credentials released too often");
        }
    }

    /** Current reference count (tests and diagnostics). */
    public final int references() {
        return refs.get();
    }

    /** Checks the endpoint the way QEMU does before using credentials ({@code Expected TLS credentials for a
     *  server endpoint}). */
    public final void checkEndpoint(TlsEndpoint expected) {
        if (endpoint != expected) {
            throw new EngineException("Expected TLS credentials for a " + expected.qapiName() + " endpoint");
        }
    }

    /**
     * Loads DH parameters for a server: from {@code dh-params.pem} (PKCS#3 PEM) when the directory has one, as
     * QEMU does; otherwise the caller uses GnuTLS's RFC 7919 group (QEMU generates a fresh 2048-bit group at
     * start instead, which takes seconds and brings nothing over the standard group).
     * Returns NULL when no file is given.
     */
    static MemorySegment loadDhParams(String file) {
        if (file == null) {
            return MemorySegment.NULL;
        }
        byte[] contents;
        try {
            contents = Files.readAllBytes(Path.of(file));
        } catch (java.io.IOException e) {
            throw new EngineException("Failed to open file \u201c" + file + "\u201d: " + ioReason(e));
        }
        MemorySegment dh = Gt.allocate(Gnutls.gnutls_dh_params_init(), "Unable to initialize DH parameters");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment datum = datum(a, contents);
            int r = (int) Gnutls.gnutls_dh_params_import_pkcs3().invokeExact(dh, datum, Gnutls.GNUTLS_X509_FMT_PEM);
            if (r < 0) {
                Gt.free(Gnutls.gnutls_dh_params_deinit(), dh);
                throw new EngineException("Unable to load DH parameters from " + file + ": " + Gt.strerror(r));
            }
            return dh;
        } catch (EngineException e) {
            throw e;
        } catch (Throwable t) {
            throw Gt.rethrow(t);
        }
    }

    static String ioReason(java.io.IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "No such file or directory";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "Permission denied";
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : "Input/output error";
    }

    /** A gnutls_datum_t in {@code a} pointing at a copy of {@code bytes}. */
    static MemorySegment datum(Arena a, byte[] bytes) {
        MemorySegment data = a.allocate(Math.max(1, bytes.length));
        MemorySegment.copy(bytes, 0, data, ValueLayout.JAVA_BYTE, 0, bytes.length);
        MemorySegment datum = a.allocate(Gnutls.gnutls_datum_t);
        datum.set(ValueLayout.ADDRESS, Gnutls.gnutls_datum_t_data, data);
        datum.set(ValueLayout.JAVA_INT, Gnutls.gnutls_datum_t_size, bytes.length);
        return datum;
    }

    @Override
    public String toString() {
        return qomType() + "[endpoint=" + endpoint.qapiName() + ", dir=" + dir + "]";
    }
}
