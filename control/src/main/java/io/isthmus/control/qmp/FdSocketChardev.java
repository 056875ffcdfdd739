package io.isthmus.control.qmp;

import io.isthmus.control.QmpError;
import io.isthmus.engine.EngineException;
import io.isthmus.engine.net.Fds;
import io.isthmus.engine.net.ListeningSocket;
import java.util.function.Consumer;

/**
 * {@code --chardev socket,fd=N,...}: a socket the daemon inherited from whoever started it (libvirt and
 * systemd-style socket activation do this). With {@code server=on} the descriptor is a bound socket
 * (UNIX or TCP) that is put into the listening state if it is not yet, and clients are accepted from it
 * one at a time; without it the descriptor is one connected client. Java's channels cannot adopt a raw
 * descriptor, so this chardev goes through the engine's {@link ListeningSocket} and {@link Fds}; the path,
 * host and port forms stay on NIO (cheaper to start: no foreign-function set-up before the greeting).
 *
 * <p>Threads: created on the control thread; {@link #nextClient} blocks in {@code accept4} on the
 * monitor's reader thread; {@link #close} (any thread) shuts the listening socket down, which wakes that
 * accept, then closes it. Memory: none beyond temporaries of a confined arena during creation. Native
 * calls return {@code >= 0} or {@code -errno}.
 */
public final class FdSocketChardev extends Chardev {
    private final ListeningSocket listener;
    private ClientConnection pending;
    private volatile boolean closed;
    private int acceptsInProgress;
    private boolean fdClosed;

    private FdSocketChardev(String id, ListeningSocket listener, ClientConnection pending) {
        super(id);
        this.listener = listener;
        this.pending = pending;
    }

    /**
     * Opens the chardev on descriptor {@code fdText}, with QEMU's checks and messages: a number
     * ("Unable to parse FD number X"), a socket ("File descriptor 'X' is not a socket"), listening.
     */
    static FdSocketChardev open(String id, String fdText, boolean server, boolean wait, Consumer<String> info)
            throws QmpError {
        int fd = parseFd(fdText);
        if (!Fds.isSocket(fd)) {
            throw QmpError.generic("File descriptor '" + fdText + "' is not a socket");
        }
        if (!server) {
            return new FdSocketChardev(id, null, new FdConnection(fd));
        }
        ListeningSocket listener;
        try {
            listener = ListeningSocket.adopt(fd, 1);
        } catch (EngineException e) {
            throw QmpError.generic(e.getMessage());
        }
        FdSocketChardev c = new FdSocketChardev(id, listener, null);
        if (wait) {
            info.accept("info: QEMU waiting for connection on: disconnected:" + listener.describe() + ",server=on");
            int conn = c.accept();
            if (conn < 0) {
                c.close();
                throw QmpError.generic("Failed to accept connection: " + Fds.message(conn));
            }
            c.pending = new FdConnection(conn);
        }
        return c;
    }

    /**
     * QEMU's qemu_parse_fd (strtol, base 10, the whole text): "Unable to parse FD number X" otherwise.
     * A negative or too large number parses but names no socket (-1).
     */
    private static int parseFd(String text) throws QmpError {
        if (!FD_NUMBER.matcher(text).matches()) {
            throw QmpError.generic("Unable to parse FD number " + text);
        }
        try {
            long v = Long.parseLong(text.strip());
            return v < 0 || v > Integer.MAX_VALUE ? -1 : (int) v;
        } catch (NumberFormatException e) {
            throw QmpError.generic("Unable to parse FD number " + text); // out of long's range: ERANGE
        }
    }

    private static final java.util.regex.Pattern FD_NUMBER = java.util.regex.Pattern.compile("\\s*[+-]?\\d+");

    private int accept() {
        synchronized (this) {
            if (closed) {
                return -1;
            }
            acceptsInProgress++;
        }
        try {
            return listener.accept();
        } finally {
            synchronized (this) {
                acceptsInProgress--;
            }
            closeFdIfIdle();
        }
    }

    @Override
    public ClientConnection nextClient() throws java.io.IOException {
        synchronized (this) {
            if (pending != null) {
                ClientConnection c = pending;
                pending = null;
                return c;
            }
        }
        if (listener == null || closed) {
            return null;
        }
        int conn = accept();
        if (conn < 0) {
            if (closed) {
                return null;
            }
            throw new java.io.IOException(Fds.message(conn));
        }
        return new FdConnection(conn);
    }

    @Override
    public void close() {
        ClientConnection p;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            p = pending;
            pending = null;
        }
        if (listener != null) {
            listener.shutdown(); // wakes a blocked accept4 (EINVAL)
            closeFdIfIdle();
        }
        if (p != null) {
            p.close();
        }
    }

    private void closeFdIfIdle() {
        synchronized (this) {
            if (!closed || acceptsInProgress > 0 || fdClosed) {
                return;
            }
            fdClosed = true;
        }
        listener.close();
    }
}
