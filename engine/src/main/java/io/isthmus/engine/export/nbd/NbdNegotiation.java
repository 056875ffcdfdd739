package io.isthmus.engine.export.nbd;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysSocket;
import io.isthmus.engine.loop.Completion;
import io.isthmus.engine.loop.IoThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One client during the handshake: drives {@link NbdHandshake} over the socket on the listener IoThread, with
 * the handshake timeout, then hands the socket to an {@link NbdConnection} on an IoThread of the chosen export.
 * When TLS is started, bytes pass through the {@link NbdTlsSession} (the TLS slow path with copies).
 *
 * <p>Thread use: the listener IoThread only. Memory: a confined arena (receive and send buffers) owned by this
 * object, closed when no operation on the socket is pending any more. Returns: completions carry
 * {@code >= 0} or {@code -errno}.
 */
final class NbdNegotiation {
    private static final System.Logger LOG = System.getLogger(NbdNegotiation.class.getName());
    private static final int RECV_SIZE = 16 * 1024;
    private static final long TAG_RECV = 1, TAG_SEND = 2, TAG_TIMER = 3;

    private final NbdServer server;
    private final IoThread thread;
    private final int fd;
    private final NbdHandshake handshake;
    private Arena arena;
    private MemorySegment recvBuf;
    private MemorySegment sendBuf;
    private final byte[] recvBytes = new byte[RECV_SIZE];
    private byte[] pendingOut = new byte[0];
    private int pendingOutPos;
    private NbdHandshake.Action next = NbdHandshake.Action.NEED_INPUT;
    private NbdTlsSession tls;
    private int pendingOps;
    private long timerOp = -1;
    private volatile boolean finished;
    private boolean closing;
    private boolean closed;

    private final Completion done = this::onComplete;

    NbdNegotiation(NbdServer server, IoThread thread, int fd) {
        this.server = server;
        this.thread = thread;
        this.fd = fd;
        this.handshake = new NbdHandshake(server, server.tlsRequired());
    }

    void start() {
        arena = Arena.ofConfined();
        recvBuf = arena.allocate(RECV_SIZE, 64);
        sendBuf = arena.allocate(4096, 64);
        if (server.handshakeNanos() > 0) {
            timerOp = thread.timeout(server.handshakeNanos(), done, TAG_TIMER);
        }
        queueOutput(handshake.takeOutput());
        pump();
    }

    /** Drops the client (server stop); listener thread. */
    void abort() {
        if (!finished && !closed) {
            fail(null);
        }
    }

    private void queueOutput(byte[] plain) {
        if (plain.length == 0) {
            return;
        }
        byte[] wire = plain;
        if (tls != null) {
            tls.sendPlaintext(plain, 0, plain.length);
            wire = tls.takeCiphertext();
        }
        appendOut(wire);
    }

    private void appendOut(byte[] wire) {
        if (wire.length == 0) {
            return;
        }
        int live = pendingOut.length - pendingOutPos;
        byte[] b = new byte[live + wire.length];
        System.arraycopy(pendingOut, pendingOutPos, b, 0, live);
        System.arraycopy(wire, 0, b, live, wire.length);
        pendingOut = b;
        pendingOutPos = 0;
    }

    /** Sends what is queued; when all is sent, acts on {@link #next}. */
    private void pump() {
        if (closing) {
            maybeClose();
            return;
        }
        int live = pendingOut.length - pendingOutPos;
        if (live > 0) {
            int n = (int) Math.min(live, sendBuf.byteSize());
            MemorySegment.copy(pendingOut, pendingOutPos, sendBuf, ValueLayout.JAVA_BYTE, 0, n);
            pendingOps++;
            thread.send(fd, sendBuf.asSlice(0, n), SysSocket.MSG_NOSIGNAL, done, TAG_SEND);
            return;
        }
        switch (next) {
            case NEED_INPUT -> {
                pendingOps++;
                thread.recv(fd, recvBuf, 0, done, TAG_RECV);
            }
            case CLOSE -> fail(handshake.error());
            case START_TLS -> {
                NbdServer.TlsSessionFactory f = server.tls();
                tls = f == null ? null : f.newServerSession();
                if (tls == null) {
                    fail("TLS is not available");
                    return;
                }
                // bytes the client sent after STARTTLS are its first TLS records
                byte[] early = handshake.takeUnconsumed();
                if (early.length > 0) {
                    tls.receiveCiphertext(early, 0, early.length);
                }
                next = NbdHandshake.Action.NEED_INPUT;
                afterTlsInput();
            }
            case TRANSMISSION -> handOver();
        }
    }

    private void onComplete(int res, int flags, long tag) {
        if (tag == TAG_TIMER) {
            timerOp = -1;
            if (res == -62 /* ETIME */ && !finished && !closed) {
                fail("handshake timed out");
            }
            maybeClose();
            return;
        }
        pendingOps--;
        if (closing) {
            maybeClose();
            return;
        }
        if (tag == TAG_SEND) {
            if (res <= 0) {
                fail(res == 0 ? "connection closed" : Errno.message(res));
                return;
            }
            pendingOutPos += res;
            pump();
            return;
        }
        // TAG_RECV
        if (res <= 0) {
            fail(null); // the client hung up (a port probe is silent)
            return;
        }
        MemorySegment.copy(recvBuf, ValueLayout.JAVA_BYTE, 0, recvBytes, 0, res);
        if (tls != null) {
            tls.receiveCiphertext(recvBytes, 0, res);
            afterTlsInput();
            return;
        }
        handshake.feed(recvBytes, 0, res);
        next = handshake.process();
        queueOutput(handshake.takeOutput());
        pump();
    }

    private void afterTlsInput() {
        appendOut(tls.takeCiphertext());
        if (tls.failure() != null) {
            next = NbdHandshake.Action.CLOSE;
            pumpThenFail(tls.failure());
            return;
        }
        if (tls.handshakeComplete()) {
            if (!tlsStartedNotified) {
                tlsStartedNotified = true;
                handshake.tlsStarted();
            }
            byte[] plain = tls.takePlaintext();
            handshake.feed(plain, 0, plain.length);
            next = handshake.process();
            queueOutput(handshake.takeOutput());
        }
        pump();
    }

    private boolean tlsStartedNotified;

    private void pumpThenFail(String why) {
        LOG.log(System.Logger.Level.DEBUG, "NBD TLS failed: " + why);
        pump();
    }

    private void handOver() {
        NbdExport exp = (NbdExport) handshake.export();
        byte[] leftover = handshake.takeUnconsumed();
        finished = true;
        IoThread target = exp.nextIoThread();
        NbdConnection c = new NbdConnection(server, exp, target, fd, handshake.structuredReplies(),
                handshake.extendedHeaders(), handshake.contexts(), leftover, tls);
        server.connectionHandedOver(this, c);
        if (timerOp != -1) {
            thread.cancel(timerOp);
        }
        closing = true; // the socket now belongs to the connection: only free our memory
        handedOver = true;
        maybeClose();
        try {
            target.execute(c::start);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            Posix.close(fd);
            server.connectionClosed(c);
        }
    }

    private boolean handedOver;

    private void fail(String why) {
        if (closing) {
            return;
        }
        if (why != null) {
            LOG.log(System.Logger.Level.DEBUG, "NBD handshake ended: " + why);
        }
        closing = true;
        Posix.shutdown(fd, SysSocket.SHUT_RDWR); // wakes a pending recv
        if (timerOp != -1) {
            thread.cancel(timerOp);
        }
        maybeClose();
    }

    private void maybeClose() {
        if (!closing || closed || pendingOps > 0 || timerOp != -1) {
            return;
        }
        closed = true;
        arena.close();
        if (!handedOver) {
            Posix.close(fd);
            server.connectionClosed(this);
        }
    }
}
