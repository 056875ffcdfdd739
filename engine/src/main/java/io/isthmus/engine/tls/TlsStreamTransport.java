package io.isthmus.engine.tls;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysSocket;
import io.isthmus.engine.loop.Completion;
import io.isthmus.engine.loop.IoThread;
import io.isthmus.engine.net.Transport;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A {@link Transport} through an established {@link TlsSession}: ciphertext is received into the session's
 * input buffer and decrypted into the caller's buffer; the caller's gather list is encrypted into the session's
 * output buffer (as much as fits) and that ciphertext is sent. The slow path, with copies: a receive reports
 * once at least one decrypted byte is in the caller's buffer (a partial record just receives more), a send
 * reports the plaintext bytes taken once their ciphertext has left.
 *
 * <p>Thread use: the IoThread given to {@link #start}. Memory: the session's buffers (it owns the session from
 * construction and closes it in {@link #close}); nothing from the arena. Completions carry {@code >= 0} or
 * {@code -errno}; a session failure reports -EIO with {@link #failure} in words.
 */
public final class TlsStreamTransport implements Transport, Completion {
    private static final long TAG_RECV = 1, TAG_SEND = 2;

    private final int fd;
    private final TlsSession tls;
    private IoThread thread;
    private Sink sink;
    /** The caller's buffer of the pending receive. */
    private MemorySegment recvTarget;
    /** Plaintext bytes taken by the pending send. */
    private long sendTaken;
    private String failure;

    public TlsStreamTransport(int fd, TlsSession tls) {
        this.fd = fd;
        this.tls = tls;
    }

    @Override
    public void start(IoThread thread, Sink sink, Arena arena) {
        this.thread = thread;
        this.sink = sink;
    }

    @Override
    public long recv(MemorySegment buf, boolean waitAll) {
        long n = decrypt(buf);
        if (n != PENDING) {
            return n;
        }
        MemorySegment space = tls.inputSpace();
        if (space.byteSize() == 0) {
            failure = "TLS input buffer full";
            return -Errno.EIO;
        }
        recvTarget = buf;
        thread.recv(fd, space, 0, this, TAG_RECV);
        return PENDING;
    }

    /** Decrypted bytes now, 0 at the end of the stream, -EIO on failure, or PENDING when more must arrive. */
    private long decrypt(MemorySegment buf) {
        long n = tls.read(buf);
        if (n > 0) {
            return n;
        }
        if (n == TlsSession.AGAIN) {
            return PENDING;
        }
        if (n == TlsSession.EOF) {
            return 0;
        }
        failure = tls.failure();
        return -Errno.EIO;
    }

    @Override
    public long sendv(MemorySegment iov, int count) {
        long taken = 0;
        outer:
        for (int k = 0; k < count; k++) {
            long a = iov.get(ValueLayout.JAVA_LONG, 16L * k);
            long l = iov.get(ValueLayout.JAVA_LONG, 16L * k + 8);
            while (l > 0) {
                long w = tls.write(MemorySegment.ofAddress(a).reinterpret(l));
                if (w < 0) {
                    failure = tls.failure();
                    return -Errno.EIO;
                }
                taken += w;
                if (w < l) {
                    break outer; // the session's output is full: send it first
                }
                l -= w;
            }
        }
        if (!tls.hasPendingOutput()) {
            return taken;
        }
        sendTaken = taken;
        thread.send(fd, tls.pendingOutput(), SysSocket.MSG_NOSIGNAL, this, TAG_SEND);
        return PENDING;
    }

    @Override
    public void complete(int res, int flags, long tag) {
        if (tag == TAG_RECV) {
            if (res <= 0) {
                recvTarget = null;
                sink.received(res); // the peer hung up (or the socket was shut down)
                return;
            }
            tls.inputReceived(res);
            long n = decrypt(recvTarget);
            if (n == PENDING) {
                MemorySegment space = tls.inputSpace();
                if (space.byteSize() > 0) {
                    thread.recv(fd, space, 0, this, TAG_RECV); // a partial record: receive the rest
                    return;
                }
                failure = "TLS input buffer full";
                n = -Errno.EIO;
            }
            recvTarget = null;
            sink.received(n);
            return;
        }
        if (res < 0) {
            sink.sent(res);
            return;
        }
        tls.outputSent(res);
        if (tls.hasPendingOutput()) {
            thread.send(fd, tls.pendingOutput(), SysSocket.MSG_NOSIGNAL, this, TAG_SEND);
            return;
        }
        sink.sent(sendTaken);
    }

    @Override
    public void shutdown() {
        Posix.shutdown(fd, SysSocket.SHUT_RDWR);
    }

    @Override
    public void close() {
        tls.close();
        Posix.close(fd);
    }

    @Override
    public String failure() {
        return failure;
    }
}
