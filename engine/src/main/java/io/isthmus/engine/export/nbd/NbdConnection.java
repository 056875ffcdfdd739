package io.isthmus.engine.export.nbd;

import io.isthmus.bindings.Errno;
import io.isthmus.engine.export.NodeAccess;
import io.isthmus.engine.loop.Completion;
import io.isthmus.engine.loop.IoThread;
import io.isthmus.engine.net.Transport;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One client in the transmission phase, served entirely by one IoThread through its io_uring.
 *
 * <p>Bytes come and go through a {@link Transport} (plain socket or TLS; this class never knows which).
 * Receive: one receive at a time into a per-connection buffer; every complete request in it is parsed and
 * started (batching). A WRITE payload already in the buffer is copied into the request's slot buffer; a large
 * payload not yet received is received straight into the slot buffer that is then written (on a plain socket
 * with no copy at all). Send: replies queue up and go out with one gather send whose iovec array holds each
 * reply's header and payload (reads land in the slot buffer that is sent). Up to {@link #SLOTS} requests are in
 * flight.
 *
 * <p>Thread use: everything runs on {@link #thread}, except {@link #requestClose} (any thread). Memory: a
 * confined arena owned by this connection (receive buffer, slots, iovecs, the transport's structures), created
 * on the IoThread in {@link #start} and closed only after every operation on the socket and every block request
 * completed. Returns: completions carry {@code >= 0} or {@code -errno}.
 */
final class NbdConnection implements Completion, Transport.Sink {
    private static final System.Logger LOG = System.getLogger(NbdConnection.class.getName());
    static final int SLOTS = 64;
    private static final int RECV_CAP = 256 * 1024;
    /** WRITE payloads up to this size are awaited in the receive buffer; larger ones are received in place. */
    private static final int SMALL_PAYLOAD = 64 * 1024;
    private static final int MAX_IOV = 128;

    final NbdServer server;
    final NbdExport exp;
    final IoThread thread;
    final boolean structured;
    final boolean extended;
    final NbdMetaContexts contexts;
    final NodeAccess node;
    final long size;
    final int exportFlags;
    private byte[] leftover;
    /** The socket, plain or TLS. */
    private final Transport transport;
    /** While a received batch is parsed, replies queue up and go out in one send at the end. */
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
    private boolean sending;
    private MemorySegment iovs;
    /**
     * The iovec array of the next send, staged on the heap (base, length pairs) and copied to {@link #iovs}
     * in one bulk copy: plain array stores keep {@link #flushSend} small for the JIT (a native store per field
     * inlines a deep var-handle chain, and this loop is hot enough to be compiled twice: on-stack and whole).
     */
    private long[] iovStage;

    /** A receive is pending; {@link #recvIntoPayload} says whether into {@link #payloadSlot}'s buffer. */
    private boolean recvArmed;
    private boolean recvIntoPayload;
    private NbdSlot payloadSlot;
    private long payloadGot;
    private boolean stopReading;
    private boolean closeAfterFlush;
    private boolean closing;
    private boolean finished;
    private int busySlots;
    private int pendingOps;
    private boolean added;

    NbdConnection(NbdServer server, NbdExport exp, IoThread thread, Transport transport, boolean structured,
            boolean extended, NbdMetaContexts contexts, byte[] leftover) {
        this.server = server;
        this.exp = exp;
        this.thread = thread;
        this.transport = transport;
        this.structured = structured;
        this.extended = extended;
        this.contexts = contexts;
        this.node = exp.node();
        this.size = exp.size();
        this.exportFlags = exp.flags();
        this.leftover = leftover;
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
        iovs = arena.allocate(16L * MAX_IOV, 8);
        iovStage = new long[2 * MAX_IOV];
        transport.start(thread, this, arena);
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

    /** Receives more into the buffer unless a receive is pending, parsing waits for a slot, or input ended. */
    private void armRecv() {
        while (!recvArmed && !stopReading && !closing && payloadSlot == null) {
            compactRecv();
            if (RECV_CAP - recvEnd == 0) {
                return; // parse() resumes when a slot frees
            }
            long n = transport.recv(recvBuf.asSlice(recvEnd, RECV_CAP - recvEnd), false);
            if (n == Transport.PENDING) {
                recvArmed = true;
                recvIntoPayload = false;
                pendingOps++;
                return;
            }
            if (n <= 0) {
                inputEnded(n);
                return;
            }
            recvEnd += (int) n; // the transport had bytes at hand (TLS): parse them and go on
            parseOnce();
        }
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

    /** End of stream (0) or a failure: finish what is in flight, then close (at once on a failure). */
    private void inputEnded(long res) {
        stopReading = true;
        closeAfterFlush = true;
        if (res < 0) {
            String why = transport.failure();
            fatal(why != null ? why : Errno.message((int) res));
        } else {
            maybeFinish();
        }
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
        if (outer && sqCount > 0 && !sending) {
            flushSend();
        }
        if (closeAfterFlush) {
            maybeFinish();
        }
        armRecv();
    }

    private void parseOnce() {
        if (payloadSlot != null) {
            // a large payload whose start was received into the buffer (a receive was pending when it began)
            NbdSlot s = payloadSlot;
            long n = Math.min(s.expectedPayload - payloadGot, recvEnd - recvStart);
            MemorySegment.copy(recvBuf, recvStart, s.buf, payloadGot, n);
            payloadGot += n;
            recvStart += (int) n;
            if (payloadGot < s.expectedPayload) {
                if (!recvArmed) {
                    recvPayload();
                }
                if (payloadSlot != null) {
                    return;
                }
            } else {
                payloadSlot = null;
                s.payloadLength = s.expectedPayload;
                s.run();
            }
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
                s.failEarly(-Errno.EINVAL, "len (" + Long.toUnsignedString(payload) + " ) is larger than max len ("
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
                    if (!recvArmed) {
                        recvPayload(); // received in place; may finish at once (TLS) and parsing goes on
                    }
                    continue;
                }
                s.payloadLength = payload;
            }
            s.run();
        }
    }

    /** Receives the rest of {@link #payloadSlot}'s payload straight into its buffer. */
    private void recvPayload() {
        while (true) {
            NbdSlot s = payloadSlot;
            long n = transport.recv(s.buf.asSlice(payloadGot, s.expectedPayload - payloadGot), true);
            if (n == Transport.PENDING) {
                recvArmed = true;
                recvIntoPayload = true;
                pendingOps++;
                return;
            }
            if (!payloadReceived(n)) {
                return;
            }
        }
    }

    /** Bytes of the payload arrived: true while more are wanted; starts the request when it is complete. */
    private boolean payloadReceived(long n) {
        NbdSlot s = payloadSlot;
        if (n <= 0) {
            payloadSlot = null;
            s.drop();
            fatal("truncated payload");
            return false;
        }
        payloadGot += n;
        if (payloadGot < s.expectedPayload) {
            return true;
        }
        payloadSlot = null;
        s.payloadLength = s.expectedPayload;
        s.run();
        return false;
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

    /** A block request of slot {@code tag} finished. */
    @Override
    public void complete(int res, int flags, long tag) {
        slots[(int) tag].completed(res);
    }

    @Override
    public void received(long res) {
        pendingOps--;
        recvArmed = false;
        if (closing && payloadSlot != null) {
            // a payload was being received (in place, or its start into the buffer): it will never complete
            NbdSlot s = payloadSlot;
            payloadSlot = null;
            s.drop();
        }
        if (recvIntoPayload) {
            if (closing) {
                maybeFinish();
                return;
            }
            if (payloadReceived(res)) {
                recvPayload(); // the rest may be at hand already (TLS)
            }
            if (payloadSlot == null && !closing) {
                parse(); // the payload is complete: the next requests
            }
            return;
        }
        if (closing) {
            maybeFinish();
            return;
        }
        if (res <= 0) {
            inputEnded(res == 0 || transport.failure() == null ? 0 : res); // a hang-up: finish what is in flight
            return;
        }
        recvEnd += (int) res;
        parse();
    }

    @Override
    public void sent(long res) {
        pendingOps--;
        // 'sending' stays set while the queue is walked: replies queued meanwhile wait for the next send
        if (res < 0) {
            String why = transport.failure();
            fatal(why != null ? why : Errno.message((int) res));
            sendDone(Long.MAX_VALUE, true);
            return;
        }
        sendDone(res, false);
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
        if (!sending && !deferFlush) {
            flushSend();
        }
    }

    /** Sends the queued replies (as many as one iovec array holds) with one gather send. */
    private void flushSend() {
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
        sending = true;
        long r = transport.sendv(iovs, iov);
        if (r == Transport.PENDING) {
            pendingOps++;
        } else if (r > 0) {
            sendDone(r, false); // the transport took the bytes at once (TLS without ciphertext left to send)
        } else {
            String why = transport.failure();
            fatal(why != null ? why : r == 0 ? "send made no progress" : Errno.message((int) r));
            sendDone(Long.MAX_VALUE, true);
        }
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
        transport.shutdown(); // completes a pending receive / send
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
            transport.shutdown();
        }
        if (pendingOps > 0 || busySlots > 0 || payloadSlot != null) {
            return;
        }
        finished = true;
        transport.close();
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
