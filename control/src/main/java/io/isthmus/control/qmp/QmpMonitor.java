package io.isthmus.control.qmp;

import io.isthmus.control.Daemon;
import java.io.IOException;

/**
 * A QMP monitor ({@code --monitor chardev=X[,pretty=on]}): serves its chardev's clients one at a time,
 * each a fresh {@link QmpSession} (greeting, negotiation), on a reader thread of its own.
 */
public final class QmpMonitor {
    private final Daemon daemon;
    private final Chardev chardev;
    private final boolean pretty;
    private final Thread thread;
    private volatile QmpSession current;
    private volatile boolean closed;

    QmpMonitor(Daemon daemon, Chardev chardev, boolean pretty) {
        this.daemon = daemon;
        this.chardev = chardev;
        this.pretty = pretty;
        this.thread = new Thread(this::run, "qmp-" + chardev.id());
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    public boolean pretty() {
        return pretty;
    }

    public Chardev chardev() {
        return chardev;
    }

    private void run() {
        int n = 0;
        while (!closed) {
            ClientConnection conn;
            try {
                conn = chardev.nextClient();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                System.err.println("isthmus: monitor " + chardev.id() + ": accept failed: " + e.getMessage());
                continue;
            }
            if (conn == null) {
                return;
            }
            QmpSession s = new QmpSession(daemon, this, conn, "qmp-" + chardev.id() + "-" + (n++));
            current = s;
            daemon.events().attach(s);
            try {
                s.serve();
            } finally {
                daemon.events().detach(s);
                current = null;
            }
        }
    }

    /** Shutdown: flushes the current client's output, then closes it. */
    void close() {
        closed = true;
        QmpSession s = current;
        if (s != null) {
            daemon.events().detach(s);
            s.closeFlushed(1000);
        }
    }
}
