package io.isthmus.control.qmp;

import io.isthmus.engine.net.Fds;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A monitor client on a connected socket known only by its file descriptor (accepted from an inherited
 * listening socket, or inherited already connected): blocking {@code read}/{@code send} through the
 * engine's {@link Fds}.
 *
 * <p>Threads: {@link #read} on the monitor's reader thread, {@link #write} on the session's writer
 * thread, {@link #close} from any thread. Memory: one read and one write buffer per connection, from an
 * automatic arena (freed by the GC once the connection is unreachable; never freed under a running call).
 * The descriptor is owned here: {@link #close} shuts the socket down at once (which wakes a blocked read
 * or write) and the descriptor is closed when the last call in progress has returned, so a number the
 * kernel may reuse is never read or written by a late call. Native calls return {@code >= 0} or
 * {@code -errno}; failures become {@link IOException}s naming the errno.
 */
final class FdConnection implements ClientConnection {
    private static final int CHUNK = 64 * 1024;

    private final int fd;
    private final MemorySegment readBuf;
    private final MemorySegment writeBuf;
    private int callsInProgress;
    private boolean closed;
    private boolean fdClosed;

    FdConnection(int fd) {
        this.fd = fd;
        Arena arena = Arena.ofAuto();
        this.readBuf = arena.allocate(CHUNK);
        this.writeBuf = arena.allocate(CHUNK);
    }

    @Override
    public int read(byte[] buf) throws IOException {
        if (!enter()) {
            return -1;
        }
        try {
            long n = Fds.read(fd, readBuf, Math.min(buf.length, CHUNK));
            if (n == 0 || (n < 0 && isClosed())) {
                return -1;
            }
            if (n < 0) {
                throw new IOException("read: " + Fds.message(n));
            }
            MemorySegment.copy(readBuf, ValueLayout.JAVA_BYTE, 0, buf, 0, (int) n);
            return (int) n;
        } finally {
            exit();
        }
    }

    @Override
    public void write(byte[] buf, int off, int len) throws IOException {
        if (!enter()) {
            throw new IOException("connection closed");
        }
        try {
            while (len > 0) {
                int chunk = Math.min(len, CHUNK);
                MemorySegment.copy(buf, off, writeBuf, ValueLayout.JAVA_BYTE, 0, chunk);
                int done = 0;
                while (done < chunk) {
                    long n = Fds.send(fd, writeBuf.asSlice(done), chunk - done);
                    if (n < 0) {
                        throw new IOException("write: " + Fds.message(n));
                    }
                    done += (int) n;
                }
                off += chunk;
                len -= chunk;
            }
        } finally {
            exit();
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        Fds.shutdown(fd);
        closeFdIfIdle();
    }

    private synchronized boolean enter() {
        if (closed) {
            return false;
        }
        callsInProgress++;
        return true;
    }

    private void exit() {
        synchronized (this) {
            callsInProgress--;
        }
        closeFdIfIdle();
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    private void closeFdIfIdle() {
        synchronized (this) {
            if (!closed || callsInProgress > 0 || fdClosed) {
                return;
            }
            fdClosed = true;
        }
        Fds.close(fd);
    }
}
