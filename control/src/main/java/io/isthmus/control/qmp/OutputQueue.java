package io.isthmus.control.qmp;

import io.isthmus.control.ProgName;
import java.io.IOException;
import java.util.ArrayDeque;

/**
 * A client's outgoing messages, written by a thread of its own so that a slow or stuck client never
 * blocks the control thread, another monitor or an event source. Each message is queued whole, so
 * messages never interleave.
 *
 * <p>Bounded: when more than {@link #LIMIT} bytes wait (the client does not read), the connection is
 * closed and later messages are discarded. Any thread may offer.
 */
final class OutputQueue {
    static final long LIMIT = 16L << 20;

    private final ClientConnection conn;
    private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
    private long queuedBytes;
    private boolean closed;
    private boolean writing;
    private final Thread writer;

    OutputQueue(ClientConnection conn, String name) {
        this.conn = conn;
        this.writer = new Thread(this::run, name);
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /** Queues a message; false if the connection is closed (or was just closed for overflow). */
    boolean offer(byte[] message) {
        synchronized (this) {
            if (closed) {
                return false;
            }
            if (queuedBytes + message.length > LIMIT) {
                System.err.println(ProgName.NAME + ": monitor client does not read its replies; closing its connection");
                closed = true;
                queue.clear();
                notifyAll();
            } else {
                queue.add(message);
                queuedBytes += message.length;
                notifyAll();
                return true;
            }
        }
        conn.close();
        return false;
    }

    private void run() {
        while (true) {
            byte[] msg;
            synchronized (this) {
                while (queue.isEmpty() && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        // keep serving until closed
                    }
                }
                if (queue.isEmpty()) {
                    notifyAll();
                    return;
                }
                msg = queue.poll();
                queuedBytes -= msg.length;
                writing = true;
            }
            try {
                conn.write(msg, 0, msg.length);
            } catch (IOException e) {
                synchronized (this) {
                    closed = true;
                    queue.clear();
                    writing = false;
                    notifyAll();
                }
                conn.close();
                return;
            }
            synchronized (this) {
                writing = false;
                notifyAll();
            }
        }
    }

    /** Stops accepting messages; what is queued is still written. */
    synchronized void close() {
        closed = true;
        notifyAll();
    }

    /** Waits until everything queued has been written (or the connection failed), at most timeoutMs. */
    synchronized void awaitFlushed(long timeoutMs) {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (!queue.isEmpty() || writing) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                return;
            }
            try {
                wait(left);
            } catch (InterruptedException e) {
                return;
            }
        }
    }
}
