package io.isthmus.control.commands;

import io.isthmus.control.QmpError;
import io.isthmus.engine.EngineException;
import io.isthmus.engine.tls.TlsCredentials;
import io.isthmus.engine.tls.TlsEndpoint;
import java.util.function.Function;

/**
 * How a user of TLS credentials (nbd-server-start's {@code tls-creds}) finds them by id, with QEMU's errors
 * (blockdev-nbd.c): {@code No TLS credentials with id 'X'}, {@code Object with id 'X' is not TLS credentials},
 * {@code Expected TLS credentials for a server endpoint}.
 *
 * <p>Thread use: the control thread (the object registry is the control thread's).
 */
public final class TlsCredsLookup {
    private TlsCredsLookup() {}

    /**
     * Finds credentials for a server and takes a reference on them for the caller, who gives it back with
     * {@link TlsCredentials#release()} when done (nbd-server-stop); object-del of the object meanwhile succeeds.
     *
     * @param objects the object registry's lookup by id (returns the object or null), e.g.
     *                {@code objects::get}
     */
    public static TlsCredentials serverCredentials(Function<String, ?> objects, String id) {
        TlsCredentials creds = credentials(objects, id);
        try {
            creds.checkEndpoint(TlsEndpoint.SERVER);
        } catch (EngineException e) {
            throw QmpError.generic(e.getMessage());
        }
        return creds.retain();
    }

    /** The credentials of object {@code id} (no reference taken, no endpoint check). */
    public static TlsCredentials credentials(Function<String, ?> objects, String id) {
        Object o = objects.apply(id);
        if (o == null) {
            throw QmpError.generic("No TLS credentials with id '" + id + "'");
        }
        if (!(o instanceof TlsCredsObject t)) {
            throw QmpError.generic("Object with id '" + id + "' is not TLS credentials");
        }
        return t.credentials();
    }
}
