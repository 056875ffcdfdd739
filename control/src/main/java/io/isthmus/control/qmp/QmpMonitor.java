package io.isthmus.control.qmp;

import io.isthmus.control.ProgName;
import io.isthmus.control.ControlLoop;
import java.io.IOException;

/**
 * A QMP monitor ({@code --monitor chardev=X[,pretty=on]}): serves its chardev's clients one at a time,
 * each a fresh {@link QmpSession} (greeting, negotiation), on a reader thread of its own.
 */
final class QmpMonitor {
    private final Chardev chardev;
    private final boolean pretty;
    private final QmpEvents events;
    private final QmpDispatcher dispatcher;
    private final ControlLoop loop;
    private volatile QmpSession current;
    private volatile boolean closed;

    QmpMonitor(Chardev chardev, boolean pretty, QmpEvents events, QmpDispatcher dispatcher, ControlLoop loop) {
        this.chardev = chardev;
        this.pretty = pretty;
        this.events = events;
        this.dispatcher = dispatcher;
        this.loop = loop;
    }

    /** Starts the monitor's reader thread. */
    void start() {
        Thread thread = new Thread(this::run, "qmp-" + chardev.id());
        thread.setDaemon(true);
        thread.start();
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
                System.err.println(ProgName.NAME + ": monitor " + chardev.id() + ": accept failed: " + e.getMessage());
                continue;
            }
            if (conn == null) {
                return;
            }
            QmpSession s = new QmpSession(conn, "qmp-" + chardev.id() + "-" + (n++), pretty, dispatcher, loop);
            current = s;
            events.attach(s);
            try {
                s.serve();
            } finally {
                events.detach(s);
                current = null;
            }
        }
    }

    /** Shutdown: flushes the current client's output, then closes it. */
    void close() {
        closed = true;
        QmpSession s = current;
        if (s != null) {
            events.detach(s);
            s.closeFlushed(1000);
        }
    }
}
