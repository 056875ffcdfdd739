package io.isthmus.engine.export.nbd;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysSocket;
import io.isthmus.engine.export.NodeAccess;
import io.isthmus.engine.loop.Completion;
import io.isthmus.engine.loop.IoThread;
import io.isthmus.engine.tls.TlsSession;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One client in the transmission phase, served entirely by one IoThread through its io_uring.
 *
 * <p>Receive: one recv at a time into a per-connection buffer; every complete request in it is parsed and
 * started (batching). A WRITE payload already in the buffer is copied into the request's slot buffer; a large
 * payload not yet received is received straight into the slot buffer that is then written.
 * Send: replies queue up and go out with one sendmsg whose iovec array holds each reply's header and payload
 * (reads land in the slot buffer that is sent). Up to {@link #SLOTS} requests are in flight.
 *
 * <p>Thread use: everything runs on {@link #thread}, except {@link #requestClose} (any thread). Memory: a
 * confined arena owned by this connection (receive buffer, slots, iovecs, msghdr), created on the IoThread in
 * {@link #start} and closed only after every operation on the socket and every block request completed.
 * Returns: completions carry {@code >= 0} or {@code -errno}.
 */
final class NbdConnection implements Completion {
    private static final System.Logger LOG = System.getLogger(NbdConnection.class.getName());
    static final int SLOTS = 64;
    private static final int RECV_CAP = 256 * 1024;
    /** WRITE payloads up to this size are awaited in the receive buffer; larger ones are received in place. */
    private static final int SMALL_PAYLOAD = 64 * 1024;
    private static final int MAX_IOV = 128;
    private static final long TAG_RECV = -1, TAG_SEND = -2, TAG_PAYLOAD = -3;

    final NbdServer server;
    final NbdExport exp;
    final IoThread thread;
    final int fd;
    final boolean structured;
    final boolean extended;
    final NbdMetaContexts contexts;
    final NodeAccess node;
    final long size;
    final int exportFlags;
    private byte[] leftover;
    /** Non-null on a TLS connection: the slow path (decrypt into the receive buffer, encrypt replies). */
    private final TlsSession tls;
    private boolean encrypting;
    /** While a received batch is parsed, replies queue up and go out in one sendmsg at the end. */
    private boolean deferFlush;

    private Arena arena;
    private MemorySegment recvBuf;
    private int recvStart, recvEnd;
    private NbdSlot[] slots;
    private int[] freeSlots;
    private int freeTop;
    private final NbdRequest req = new NbdRequest();

    // send queue (ring of slots whose replies are ready)
    private NbdSlot[] sendQueue;
    private int sqHead, sqCount;
    private long headSent;
    private int sendingCount; // slots covered by the sendmsg in flight
    private boolean sending;
    private MemorySegment msghdr;
    private MemorySegment iovs;
    /**
     * The iovec array of the next sendmsg, staged on the heap (base, length pairs) and copied to {@link #iovs}
     * in one bulk copy: plain array stores keep {@link #flushSend} small for the JIT (a native store per field
     * inlines a deep var-handle chain, and this loop is hot enough to be compiled twice: on-stack and whole).
     */
    private long[] iovStage;

    private boolean recvArmed;
    private NbdSlot payloadSlot;
    private long payloadGot;
    private boolean stopReading;
    private boolean closeAfterFlush;
    private boolean closing;
    private boolean finished;
    private int busySlots;
    private int pendingOps;
    private boolean added;

    NbdConnection(NbdServer server, NbdExport exp, IoThread thread, int fd, boolean structured, boolean extended,
            NbdMetaContexts contexts, byte[] leftover, TlsSession tls) {
        this.server = server;
        this.exp = exp;
        this.thread = thread;
        this.fd = fd;
        this.structured = structured;
        this.extended = extended;
        this.contexts = contexts;
        this.node = exp.node();
        this.size = exp.size();
        this.exportFlags = exp.flags();
        this.leftover = leftover;
        this.tls = tls;
    }

    /** On {@link #thread}: sets up memory and starts receiving. */
    void start() {
        arena = Arena.ofConfined();
        recvBuf = arena.allocate(RECV_CAP, 4096);
        slots = new NbdSlot[SLOTS];
        freeSlots = new int[SLOTS];
        for (int i = 0; i < SLOTS; i++) {
            slots[i] = new NbdSlot(this, i, arena);
            freeSlots[freeTop++] = SLOTS - 1 - i;
        }
        sendQueue = new NbdSlot[SLOTS];
        msghdr = arena.allocate(SysSocket.msghdr);
        iovs = arena.allocate(16L * MAX_IOV, 8);
        iovStage = new long[2 * MAX_IOV];
        msghdr.set(ValueLayout.ADDRESS, 16, iovs); // msg_iov; only msg_iovlen changes per sendmsg
        if (!exp.addClient(this)) {
            closing = true;
            maybeFinish();
            return;
        }
        added = true;
        if (leftover != null && leftover.length > 0) {
            MemorySegment.copy(leftover, 0, recvBuf, ValueLayout.JAVA_BYTE, 0, leftover.length);
            recvEnd = leftover.length;
        }
        leftover = null;
        parse();
    }

    /** Drops the client (export removed in hard mode, server stop). Any thread. */
    void requestClose() {
        try {
            thread.execute(() -> fatal(null));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the IoThread is stopping: its shutdown cancels our operations
        }
    }

    // =====================================================================================================
    // receive

    private void armRecv() {
        if (recvArmed || stopReading || closing || (payloadSlot != null && tls == null)) {
            return;
        }
        if (tls != null) {
            armRecvTls();
            return;
        }
        if (recvStart == recvEnd) {
            recvStart = recvEnd = 0;
        } else if (RECV_CAP - recvEnd < SMALL_PAYLOAD + Nbd.EXTENDED_REQUEST_SIZE) {
            int live = recvEnd - recvStart;
            MemorySegment.copy(recvBuf, recvStart, recvBuf, 0, live);
            recvStart = 0;
            recvEnd = live;
        }
        recvArmed = true;
        pendingOps++;
        thread.recv(fd, recvBuf.asSlice(recvEnd, RECV_CAP - recvEnd), 0, this, TAG_RECV);
    }

    private void compactRecv() {
        if (recvStart == recvEnd) {
            recvStart = recvEnd = 0;
        } else if (recvStart > 0 && RECV_CAP - recvEnd < SMALL_PAYLOAD + Nbd.EXTENDED_REQUEST_SIZE) {
            int live = recvEnd - recvStart;
            MemorySegment.copy(recvBuf, recvStart, recvBuf, 0, live);
            recvStart = 0;
            recvEnd = live;
        }
    }

    /** TLS: decrypts what the session holds into the receive buffer, else receives more ciphertext. */
    private void armRecvTls() {
        while (true) {
            compactRecv();
            if (RECV_CAP - recvEnd == 0) {
                return; // parse() resumes when a slot frees
            }
            long n = tls.read(recvBuf.asSlice(recvEnd, RECV_CAP - recvEnd));
            if (n > 0) {
                recvEnd += (int) n;
                parseOnce();
                if (recvArmed || stopReading || closing) {
                    return;
                }
                continue;
            }
            if (n == TlsSession.AGAIN) {
                break;
            }
            // EOF or failure: finish what is in flight, then close
            stopReading = true;
            closeAfterFlush = true;
            if (n == TlsSession.FAILED) {
                fatal(tls.failure());
            } else {
                maybeFinish();
            }
            return;
        }
        MemorySegment space = tls.inputSpace();
        if (space.byteSize() == 0) {
            fatal("TLS input buffer full");
            return;
        }
        recvArmed = true;
        pendingOps++;
        thread.recv(fd, space, 0, this, TAG_RECV);
    }

    /** Parses and starts every complete request in the receive buffer, then receives more. */
    private void parse() {
        boolean outer = !deferFlush;
        deferFlush = true;
        try {
            parseOnce();
        } finally {
            if (outer) {
                deferFlush = false;
            }
        }
        if (outer && sqCount > 0 && !sending && !encrypting) {
            flushSend();
        }
        if (closeAfterFlush) {
            maybeFinish();
        }
        armRecv();
    }

    private void parseOnce() {
        if (payloadSlot != null && tls != null) {
            // TLS: a large payload is filled from the decrypted stream
            NbdSlot s = payloadSlot;
            long n = Math.min(s.expectedPayload - payloadGot, recvEnd - recvStart);
            MemorySegment.copy(recvBuf, recvStart, s.buf, payloadGot, n);
            payloadGot += n;
            recvStart += (int) n;
            if (payloadGot < s.expectedPayload) {
                return;
            }
            payloadSlot = null;
            s.payloadLength = s.expectedPayload;
            s.run();
        }
        while (!closing && !stopReading && payloadSlot == null) {
            long avail = recvEnd - recvStart;
            int hdr = req.decode(recvBuf, recvStart, avail, extended);
            if (hdr == NbdRequest.INCOMPLETE) {
                break;
            }
            if (hdr == NbdRequest.BAD_MAGIC) {
                fatal("invalid request magic");
                return;
            }
            if (req.type == Nbd.CMD_DISC) {
                recvStart += hdr;
                stopReading = true;
                closeAfterFlush = true;
                break;
            }
            long payload = req.payloadLength(extended);
            if (payload > Nbd.MAX_BUFFER_SIZE || payload < 0) {
                if (freeTop == 0) {
                    break;
                }
                recvStart += hdr;
                // the payload cannot be skipped safely: reply, then disconnect (QEMU's "intermediate state")
                NbdSlot s = takeSlot();
                s.begin(req);
                stopReading = true;
                closeAfterFlush = true;
                s.failEarly(-22, "len (" + Long.toUnsignedString(payload) + " ) is larger than max len ("
                        + Nbd.MAX_BUFFER_SIZE + ")");
                break;
            }
            if (payload > 0 && payload <= SMALL_PAYLOAD && avail < hdr + payload) {
                break; // wait until the whole small payload is in the buffer
            }
            if (freeTop == 0) {
                break; // resumes when a slot is released
            }
            recvStart += hdr;
            NbdSlot s = takeSlot();
            s.begin(req);
            if (payload > 0) {
                s.ensureCapacity(payload);
                long inBuf = Math.min(payload, recvEnd - recvStart);
                MemorySegment.copy(recvBuf, recvStart, s.buf, 0, inBuf);
                recvStart += (int) inBuf;
                if (inBuf < payload) {
                    payloadSlot = s;
                    payloadGot = inBuf;
                    if (tls == null) {
                        recvPayload();
                    }
                    return;
                }
                s.payloadLength = payload;
            }
            s.run();
        }
    }

    private void recvPayload() {
        NbdSlot s = payloadSlot;
        long want = s.expectedPayload - payloadGot;
        pendingOps++;
        thread.recv(fd, s.buf.asSlice(payloadGot, want), SysSocket.MSG_WAITALL, this, TAG_PAYLOAD);
    }

    NbdSlot takeSlot() {
        busySlots++;
        return slots[freeSlots[--freeTop]];
    }

    /** A slot's reply was sent (or dropped): it may take the next request. */
    void releaseSlot(NbdSlot s) {
        busySlots--;
        freeSlots[freeTop++] = s.index;
        if (closing) {
            maybeFinish();
        } else if (freeTop == 1) {
            parse(); // parsing may have stopped for lack of a slot
        }
    }

    @Override
    public void complete(int res, int flags, long tag) {
        if (tag >= 0) {
            slots[(int) tag].completed(res);
            return;
        }
        pendingOps--;
        if (tag == TAG_RECV) {
            recvArmed = false;
            if (closing) {
                maybeFinish();
                return;
            }
            if (res <= 0) {
                // client hung up (or error): finish what is in flight, then close
                stopReading = true;
                closeAfterFlush = true;
                maybeFinish();
                return;
            }
            if (tls != null) {
                tls.inputReceived(res);
                parse();
                return;
            }
            recvEnd += res;
            parse();
        } else if (tag == TAG_PAYLOAD) {
            if (closing) {
                NbdSlot s = payloadSlot;
                payloadSlot = null;
                s.drop();
                return;
            }
            if (res <= 0) {
                NbdSlot s = payloadSlot;
                payloadSlot = null;
                s.drop();
                fatal("truncated payload");
                return;
            }
            payloadGot += res;
            if (payloadGot < payloadSlot.expectedPayload) {
                recvPayload();
                return;
            }
            NbdSlot s = payloadSlot;
            payloadSlot = null;
            s.payloadLength = s.expectedPayload;
            s.run();
            parse();
        } else if (tag == TAG_SEND && tls != null) {
            sending = false;
            if (res < 0) {
                fatal(Errno.message(res));
                return;
            }
            tls.outputSent(res);
            if (closing) {
                dropQueue();
                maybeFinish();
                return;
            }
            flushSendTls();
        } else if (tag == TAG_SEND) {
            // 'sending' stays set while the queue is walked: replies queued meanwhile wait for the next sendmsg
            if (res < 0) {
                fatal(Errno.message(res));
                sendDone(Long.MAX_VALUE, true);
                return;
            }
            sendDone(res, false);
        }
    }

    // =====================================================================================================
    // send

    /** The slot's reply (segments) is complete: queue it. */
    void queueReply(NbdSlot s) {
        if (closing) {
            s.replyDropped();
            return;
        }
        sendQueue[(sqHead + sqCount) % SLOTS] = s;
        sqCount++;
        if (!sending && !encrypting && !deferFlush) {
            flushSend();
        }
    }

    /** TLS: encrypts queued replies into the session (slots are free once encrypted), sends its output. */
    private void flushSendTls() {
        if (sending || encrypting || closing) {
            return;
        }
        encrypting = true;
        try {
            outer:
            while (sqCount > 0) {
                NbdSlot s = sendQueue[sqHead];
                long skip = headSent;
                for (int k = 0; k < s.segCount; k++) {
                    long a = s.segAddr[k], l = s.segLen[k];
                    if (skip >= l) {
                        skip -= l;
                        continue;
                    }
                    a += skip;
                    l -= skip;
                    skip = 0;
                    long w = tls.write(MemorySegment.ofAddress(a).reinterpret(l));
                    if (w < 0) {
                        fatal(tls.failure());
                        return;
                    }
                    headSent += w;
                    if (w < l) {
                        break outer; // the session's output is full: send it first
                    }
                }
                headSent = 0;
                sendQueue[sqHead] = null;
                sqHead = (sqHead + 1) % SLOTS;
                sqCount--;
                s.replySent();
            }
        } finally {
            encrypting = false;
        }
        if (tls.hasPendingOutput()) {
            sending = true;
            pendingOps++;
            thread.send(fd, tls.pendingOutput(), SysSocket.MSG_NOSIGNAL, this, TAG_SEND);
        } else if (closeAfterFlush) {
            maybeFinish();
        }
    }

    private void flushSend() {
        if (tls != null) {
            flushSendTls();
            return;
        }
        if (sqCount == 0 || closing) {
            return;
        }
        int iov = 0;
        int covered = 0;
        long skip = headSent;
        long[] stage = iovStage;
        for (int i = 0; i < sqCount && iov < MAX_IOV; i++) {
            NbdSlot s = sendQueue[(sqHead + i) % SLOTS];
            if (iov + s.segCount > MAX_IOV && covered > 0) {
                break;
            }
            long[] addr = s.segAddr, len = s.segLen;
            for (int k = 0; k < s.segCount && iov < MAX_IOV; k++) {
                long a = addr[k], l = len[k];
                if (skip > 0) {
                    if (skip >= l) {
                        skip -= l;
                        continue;
                    }
                    a += skip;
                    l -= skip;
                    skip = 0;
                }
                stage[2 * iov] = a;
                stage[2 * iov + 1] = l;
                iov++;
            }
            covered++;
        }
        MemorySegment.copy(stage, 0, iovs, ValueLayout.JAVA_LONG, 0, 2 * iov);
        msghdr.set(ValueLayout.JAVA_LONG, 24, iov);
        sending = true;
        sendingCount = covered;
        pendingOps++;
        thread.sendmsg(fd, msghdr, SysSocket.MSG_NOSIGNAL, this, TAG_SEND);
    }

    private void sendDone(long sent, boolean failed) {
        long left = sent + headSent;
        while (sqCount > 0) {
            NbdSlot s = sendQueue[sqHead];
            long total = s.replyBytes();
            if (!failed && left < total) {
                headSent = left;
                break;
            }
            left -= total;
            headSent = 0;
            sendQueue[sqHead] = null;
            sqHead = (sqHead + 1) % SLOTS;
            sqCount--;
            s.replySent();
            if (!failed && left == 0) {
                break;
            }
        }
        if (failed) {
            headSent = 0;
        }
        sending = false;
        if (closing) {
            dropQueue();
            maybeFinish();
            return;
        }
        if (sqCount > 0) {
            flushSend();
        } else if (closeAfterFlush) {
            maybeFinish();
        }
    }

    private void dropQueue() {
        while (sqCount > 0) {
            NbdSlot s = sendQueue[sqHead];
            sendQueue[sqHead] = null;
            sqHead = (sqHead + 1) % SLOTS;
            sqCount--;
            s.replyDropped();
        }
    }

    // =====================================================================================================
    // close

    /** Ends the connection now: pending replies are dropped, in-flight block requests finish first. */
    void fatal(String why) {
        if (closing) {
            return;
        }
        if (why != null) {
            LOG.log(System.Logger.Level.DEBUG, "NBD client dropped: " + why);
        }
        closing = true;
        stopReading = true;
        Posix.shutdown(fd, SysSocket.SHUT_RDWR); // completes a pending recv / send
        if (!sending) {
            dropQueue();
        }
        maybeFinish();
    }

    /** Closes once nothing is in flight. */
    private void maybeFinish() {
        if (finished) {
            return;
        }
        if (!closing) {
            // graceful (DISC or EOF): wait for in-flight requests and their replies
            if (!closeAfterFlush || busySlots > 0 || sqCount > 0 || sending || payloadSlot != null) {
                return;
            }
            closing = true;
            Posix.shutdown(fd, SysSocket.SHUT_RDWR);
        }
        if (pendingOps > 0 || busySlots > 0 || payloadSlot != null) {
            return;
        }
        finished = true;
        if (tls != null) {
            tls.close();
        }
        Posix.close(fd);
        for (NbdSlot s : slots) {
            s.free();
        }
        arena.close();
        if (added) {
            exp.removeClient(this);
        }
        server.connectionClosed(this);
    }

    boolean closing() {
        return closing;
    }
}
