package io.isthmus.engine.export.nbd;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysSocket;
import io.isthmus.engine.loop.Completion;
import io.isthmus.engine.loop.IoThread;
import io.isthmus.engine.net.PlainTransport;
import io.isthmus.engine.net.Transport;
import io.isthmus.engine.tls.TlsSession;
import io.isthmus.engine.tls.TlsStreamTransport;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One client during the handshake: drives {@link NbdHandshake} over the socket on the listener IoThread, with
 * the handshake timeout, then hands the socket to an {@link NbdConnection} on an IoThread of the chosen export.
 * After NBD_OPT_STARTTLS the bytes pass through a {@link TlsSession}: ciphertext is received into the
 * session's input buffer and sent from its output buffer; NBD bytes are decrypted into / encrypted from this
 * object's buffers (the TLS slow path, with copies).
 *
 * <p>Thread use: the listener IoThread only. Memory: a confined arena (receive and send buffers) owned by this
 * object, closed when no operation on the socket is pending any more; the TLS session (shared arena) passes to
 * the connection at hand-over or is closed here. Returns: completions carry {@code >= 0} or {@code -errno}.
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
    /** Received bytes the handshake had no room for when it stopped asking for input (see {@link #offer}). */
    private byte[] unfed = new byte[0];
    private long inFlightSend;
    private NbdHandshake.Action next = NbdHandshake.Action.NEED_INPUT;
    private TlsSession tls;
    private boolean tlsStartedNotified;
    private int pendingOps;
    private long timerOp = -1;
    private volatile boolean finished;
    private boolean closing;
    private boolean closed;
    private boolean handedOver;

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
        sendBuf = arena.allocate(RECV_SIZE, 64);
        if (server.handshakeNanos() > 0) {
            timerOp = thread.timeout(server.handshakeNanos(), done, TAG_TIMER);
        }
        queuePlain(handshake.takeOutput());
        pump();
    }

    /** Drops the client (server stop); listener thread. */
    void abort() {
        if (!finished && !closed) {
            fail(null);
        }
    }

    private void queuePlain(byte[] plain) {
        if (plain.length == 0) {
            return;
        }
        int live = pendingOut.length - pendingOutPos;
        byte[] b = new byte[live + plain.length];
        System.arraycopy(pendingOut, pendingOutPos, b, 0, live);
        System.arraycopy(plain, 0, b, live, plain.length);
        pendingOut = b;
        pendingOutPos = 0;
    }

    /** Sends what is queued (through TLS when on); when all is out, acts on {@link #next}. */
    private void pump() {
        if (closing) {
            maybeClose();
            return;
        }
        if (inFlightSend > 0) {
            return;
        }
        if (tls != null) {
            // encrypt queued NBD bytes, then send the session's ciphertext
            int live = pendingOut.length - pendingOutPos;
            if (live > 0 && tls.state() == TlsSession.State.ESTABLISHED) {
                int n = (int) Math.min(live, sendBuf.byteSize());
                MemorySegment.copy(pendingOut, pendingOutPos, sendBuf, ValueLayout.JAVA_BYTE, 0, n);
                long w = tls.write(sendBuf.asSlice(0, n));
                if (w < 0) {
                    fail(tls.failure());
                    return;
                }
                pendingOutPos += (int) w;
            }
            if (tls.hasPendingOutput()) {
                MemorySegment c = tls.pendingOutput();
                inFlightSend = c.byteSize();
                pendingOps++;
                thread.send(fd, c, SysSocket.MSG_NOSIGNAL, done, TAG_SEND);
                return;
            }
            if (tls.state() == TlsSession.State.FAILED) {
                fail(tls.failure());
                return;
            }
            if (pendingOut.length - pendingOutPos > 0) {
                return; // waiting for the session (handshake) before the bytes can go
            }
        } else {
            int live = pendingOut.length - pendingOutPos;
            if (live > 0) {
                int n = (int) Math.min(live, sendBuf.byteSize());
                MemorySegment.copy(pendingOut, pendingOutPos, sendBuf, ValueLayout.JAVA_BYTE, 0, n);
                inFlightSend = n;
                pendingOps++;
                thread.send(fd, sendBuf.asSlice(0, n), SysSocket.MSG_NOSIGNAL, done, TAG_SEND);
                return;
            }
        }
        switch (next) {
            case NEED_INPUT -> {
                pendingOps++;
                MemorySegment space = tls != null ? tls.inputSpace() : recvBuf;
                thread.recv(fd, space, 0, done, TAG_RECV);
            }
            case CLOSE -> fail(handshake.error());
            case START_TLS -> startTls();
            case TRANSMISSION -> handOver();
        }
    }

    private void startTls() {
        try {
            tls = server.newTlsSession();
        } catch (RuntimeException e) {
            fail(e.getMessage());
            return;
        }
        // bytes the client sent right after STARTTLS are its first TLS records
        byte[] early = unconsumed();
        if (early.length > 0) {
            MemorySegment e = arena.allocate(early.length);
            MemorySegment.copy(early, 0, e, ValueLayout.JAVA_BYTE, 0, early.length);
            tls.feed(e);
        }
        next = NbdHandshake.Action.NEED_INPUT;
        tlsStep();
    }

    /** Advances the TLS session after input or output, feeding decrypted bytes to the handshake. */
    private void tlsStep() {
        TlsSession.State st = tls.handshake();
        if (st == TlsSession.State.ESTABLISHED) {
            if (!tlsStartedNotified) {
                tlsStartedNotified = true;
                handshake.tlsStarted();
            }
            if (next == NbdHandshake.Action.NEED_INPUT) {
                while (true) {
                    long n = tls.read(recvBuf);
                    if (n == TlsSession.AGAIN) {
                        break;
                    }
                    if (n < 0) {
                        fail(n == TlsSession.EOF ? null : tls.failure());
                        return;
                    }
                    MemorySegment.copy(recvBuf, ValueLayout.JAVA_BYTE, 0, recvBytes, 0, (int) n);
                    offer(recvBytes, (int) n);
                    if (next != NbdHandshake.Action.NEED_INPUT) {
                        break;
                    }
                }
            }
        }
        pump();
    }

    private void onComplete(int res, int flags, long tag) {
        if (tag == TAG_TIMER) {
            timerOp = -1;
            if (res == -Errno.ETIME && !finished && !closed) {
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
            inFlightSend = 0;
            if (res <= 0) {
                fail(res == 0 ? "connection closed" : Errno.message(res));
                return;
            }
            if (tls != null) {
                tls.outputSent(res);
                tlsStep();
            } else {
                pendingOutPos += res;
                pump();
            }
            return;
        }
        // TAG_RECV
        if (res <= 0) {
            fail(null); // the client hung up (a port probe is silent)
            return;
        }
        if (tls != null) {
            tls.inputReceived(res);
            tlsStep();
            return;
        }
        MemorySegment.copy(recvBuf, ValueLayout.JAVA_BYTE, 0, recvBytes, 0, res);
        offer(recvBytes, res);
        pump();
    }

    /**
     * Feeds {@code len} received bytes to the handshake in the pieces its bounded buffer takes, processing after
     * each. Bytes left over once the handshake stops asking for input belong to the next layer (TLS records
     * after STARTTLS, requests after GO): they are kept for {@link #unconsumed}.
     */
    private void offer(byte[] b, int len) {
        int off = 0;
        do {
            off += handshake.feed(b, off, len - off);
            next = handshake.process();
            queuePlain(handshake.takeOutput());
        } while (next == NbdHandshake.Action.NEED_INPUT && off < len);
        if (off < len && next != NbdHandshake.Action.CLOSE) {
            byte[] rest = new byte[unfed.length + len - off];
            System.arraycopy(unfed, 0, rest, 0, unfed.length);
            System.arraycopy(b, off, rest, unfed.length, len - off);
            unfed = rest;
        }
    }

    /** Input past the handshake's end: what it buffered, then what it had no room for. Clears both. */
    private byte[] unconsumed() {
        byte[] buffered = handshake.takeUnconsumed();
        if (unfed.length == 0) {
            return buffered;
        }
        byte[] all = new byte[buffered.length + unfed.length];
        System.arraycopy(buffered, 0, all, 0, buffered.length);
        System.arraycopy(unfed, 0, all, buffered.length, unfed.length);
        unfed = new byte[0];
        return all;
    }

    private void handOver() {
        NbdExport exp = (NbdExport) handshake.export();
        byte[] leftover = unconsumed();
        finished = true;
        IoThread target = exp.nextIoThread();
        Transport transport = tls != null ? new TlsStreamTransport(fd, tls) : new PlainTransport(fd);
        NbdConnection c = new NbdConnection(server, exp, target, transport, handshake.structuredReplies(),
                handshake.extendedHeaders(), handshake.contexts(), leftover);
        tls = null; // the connection's transport owns the session now
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
            transport.close();
            server.connectionClosed(c);
        }
    }

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
        if (tls != null) {
            tls.close();
            tls = null;
        }
        if (!handedOver) {
            Posix.close(fd);
            server.connectionClosed(this);
        }
    }
}
