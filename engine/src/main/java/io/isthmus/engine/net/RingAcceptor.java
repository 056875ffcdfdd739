package io.isthmus.engine.net;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.SysSocket;
import io.isthmus.engine.loop.Completion;
import io.isthmus.engine.loop.IoThread;

/**
 * Accepts clients of a {@link ListeningSocket} on an IoThread's ring, one accept in flight at a time: the owner
 * arms it when it wants the next client (so a connection limit simply does not re-arm), hears each client in
 * {@link Handler#accepted}, and closes it with {@link #close}, which cancels the pending accept and closes the
 * socket (unlinking its UNIX path) once the ring gave that accept back.
 *
 * <p>Thread use: the IoThread only (construction anywhere). Memory: none native. Completions carry the new
 * descriptor or {@code -errno}; a transient failure re-arms, a socket that cannot accept (EBADF, ENOTSOCK,
 * EINVAL) stays disarmed rather than spin.
 */
public final class RingAcceptor implements Completion {
    private static final System.Logger LOG = System.getLogger(RingAcceptor.class.getName());

    /** The owner's side, called on the IoThread. */
    public interface Handler {
        /** A client: the descriptor (close-on-exec) now belongs to the handler. */
        void accepted(int fd);

        /** After {@link #close}: no accept is pending any more and the socket is closed. */
        void closed();
    }

    private final ListeningSocket socket;
    private final IoThread thread;
    private final Handler handler;
    private final String what;
    private long acceptOp = -1;
    private boolean closing;
    private boolean closed;

    /** @param what names the server in log lines ("NBD") */
    public RingAcceptor(ListeningSocket socket, IoThread thread, Handler handler, String what) {
        this.socket = socket;
        this.thread = thread;
        this.handler = handler;
        this.what = what;
    }

    public ListeningSocket socket() {
        return socket;
    }

    /** Starts one accept unless one is pending or the acceptor is closing. */
    public void arm() {
        if (closing || acceptOp != -1) {
            return;
        }
        acceptOp = thread.accept(socket.fd(), SysSocket.SOCK_CLOEXEC, this, 0);
    }

    /** Stops accepting; {@link Handler#closed} follows (at once when no accept is pending). */
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        if (acceptOp != -1) {
            thread.cancel(acceptOp);
        } else {
            finish();
        }
    }

    @Override
    public void complete(int res, int flags, long tag) {
        acceptOp = -1;
        if (closing) {
            if (res >= 0) {
                Fds.close(res);
            }
            finish();
            return;
        }
        if (res < 0) {
            if (res != -Errno.ECANCELED) {
                LOG.log(System.Logger.Level.WARNING, what + " accept failed: " + Errno.message(res));
            }
            if (res == -Errno.EBADF || res == -Errno.ENOTSOCK || res == -Errno.EINVAL) {
                return; // not a listening socket: retrying would spin
            }
            arm();
            return;
        }
        handler.accepted(res);
    }

    private void finish() {
        if (closed) {
            return;
        }
        closed = true;
        socket.close();
        handler.closed();
    }
}
