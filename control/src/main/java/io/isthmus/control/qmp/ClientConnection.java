package io.isthmus.control.qmp;

import java.io.IOException;

/**
 * One monitor client's byte stream: a connected socket or the process's stdio. Reads happen on the
 * monitor's reader thread, writes on the session's writer thread; {@link #close} may come from any
 * thread and unblocks both where the transport allows.
 */
public interface ClientConnection {
    /** Blocking read; returns -1 at end of stream. */
    int read(byte[] buf) throws IOException;

    /** Writes all bytes (blocking). */
    void write(byte[] buf, int off, int len) throws IOException;

    void close();
}
