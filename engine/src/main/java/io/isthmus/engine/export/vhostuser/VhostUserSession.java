package io.isthmus.engine.export.vhostuser;

import io.isthmus.bindings.Cmsg;
import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysSocket;
import io.isthmus.engine.loop.Completion;
import io.isthmus.engine.loop.IoThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

/**
 * One front end's vhost-user session on the export's socket: the {@link VhostUserChannel} over the connection
 * (messages read with recvmsg on the session IoThread's ring: the 12-byte header with up to
 * {@link VhostUser#MAX_FDS} descriptors (SCM_RIGHTS, close-on-exec), then the payload, at most
 * {@link VhostUserMessage#MAX_PAYLOAD_SIZE} bytes), the {@link VhostUserHandler} that interprets them, and the
 * {@link VirtioBlkDevice} whose queues serve the guest.
 *
 * <p>Messages are handled one at a time, in order. While a queue stop is pending (the device waits for the queue's
 * in-flight requests, {@link VhostUserDevice#DEFER}) no further message is read, so a GET_VRING_BASE always
 * answers the base of a stopped queue. Replies go out with a non-blocking sendmsg: a front end that does not read
 * its replies (the socket buffer full) ends its session. A front end that has not sent SET_OWNER within
 * {@link #SETUP_TIMEOUT_SECONDS} is dropped, so a connection that never sets up does not hold the export.
 *
 * <p>Ending (the peer closed, a protocol violation, the export deleted): the socket is shut down, every queue is
 * stopped (once their requests are done), then guest memory is unmapped, the fds closed, the arena freed, and
 * the export told ({@link VhostUserBlkExport#sessionEnded}), which listens again.
 *
 * <p>Thread use: the session IoThread only. Memory: the message buffers live in the session's shared arena,
 * closed at the end once no operation on them is pending. Fds: received ones are the handler's if it takes them,
 * else closed after the message.
 */
final class VhostUserSession implements VhostUserChannel, Completion {
    private static final System.Logger LOG = System.getLogger(VhostUserSession.class.getName());
    /** How long a front end may take to send SET_OWNER after connecting. */
    static final long SETUP_TIMEOUT_SECONDS = Long.getLong("isthmus.vhost-user.setup-timeout", 10);

    private static final int TAG_HEADER = 1, TAG_PAYLOAD = 2, TAG_TIMER = 3;
    private static final long MSG_IOV = 16, MSG_IOVLEN = 24, MSG_CONTROL = 32, MSG_CONTROLLEN = 40, MSG_FLAGS = 48;
    private static final long FD_CONTROL = Cmsg.space(4L * VhostUser.MAX_FDS);

    private final VhostUserBlkExport export;
    private final IoThread thread;
    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buf;
    private final MemorySegment msghdr;
    private final MemorySegment iov;
    private final MemorySegment control;
    private final MemorySegment sendHdr;
    private final MemorySegment sendIov;
    private final MemorySegment sendControl;
    private final MemorySegment backendBuf;
    private final VirtioBlkDevice device;
    private final VhostUserHandler handler;

    private final int[] fds = new int[VhostUser.MAX_FDS];
    private int fdCount;
    private boolean fdOverflow;
    private int got;
    private int payloadSize;
    private long recvOp = -1;
    private long timerOp = -1;
    /** A GET_VRING_BASE waits for its queue's stop: no message is read until it is answered. */
    private boolean deferred;
    private boolean ending;
    private boolean finished;

    VhostUserSession(VhostUserBlkExport export, int fd) {
        this.export = export;
        this.thread = export.sessionThread;
        this.fd = fd;
        buf = arena.allocate(VhostUserMessage.MAX_MESSAGE_SIZE, 8);
        msghdr = arena.allocate(SysSocket.msghdr);
        iov = arena.allocate(16, 8);
        control = arena.allocate(FD_CONTROL, 8);
        sendHdr = arena.allocate(SysSocket.msghdr);
        sendIov = arena.allocate(16, 8);
        sendControl = arena.allocate(Cmsg.space(4), 8);
        backendBuf = arena.allocate(VhostUserMessage.HEADER_SIZE, 8);
        device = new VirtioBlkDevice(export, this);
        handler = new VhostUserHandler(device, arena);
    }

    VirtioBlkDevice device() {
        return device;
    }

    VhostUserHandler handler() {
        return handler;
    }

    IoThread thread() {
        return thread;
    }

    void start() {
        timerOp = thread.timeout(TimeUnit.SECONDS.toNanos(SETUP_TIMEOUT_SECONDS), this, TAG_TIMER);
        got = 0;
        armHeader();
    }

    // ---- receiving

    private void armHeader() {
        if (ending) {
            return;
        }
        iov.set(ValueLayout.JAVA_LONG, 0, buf.address() + got);
        iov.set(ValueLayout.JAVA_LONG, 8, VhostUserMessage.HEADER_SIZE - got);
        msghdr.fill((byte) 0);
        msghdr.set(ValueLayout.JAVA_LONG, MSG_IOV, iov.address());
        msghdr.set(ValueLayout.JAVA_LONG, MSG_IOVLEN, 1);
        msghdr.set(ValueLayout.JAVA_LONG, MSG_CONTROL, control.address());
        msghdr.set(ValueLayout.JAVA_LONG, MSG_CONTROLLEN, FD_CONTROL);
        recvOp = thread.recvmsg(fd, msghdr, SysSocket.MSG_CMSG_CLOEXEC, this, TAG_HEADER);
    }

    private void armPayload() {
        recvOp = thread.recv(fd, buf.address() + VhostUserMessage.HEADER_SIZE + got, payloadSize - got, 0, this,
                TAG_PAYLOAD);
    }

    @Override
    public void complete(int res, int flags, long tag) {
        if (tag == TAG_TIMER) {
            timerOp = -1;
            if (res == -Errno.ETIME && !ending && !handler.hasOwner()) {
                end("no SET_OWNER within " + SETUP_TIMEOUT_SECONDS + " s of connecting");
            }
            tryFinish();
            return;
        }
        recvOp = -1;
        if (tag == TAG_HEADER) {
            takeControlFds();
        }
        if (ending) {
            tryFinish();
            return;
        }
        if (res <= 0) {
            end(res == 0 ? "the front end disconnected" : "receive failed: " + Errno.message(res));
            return;
        }
        if (tag == TAG_HEADER) {
            if ((msghdr.get(ValueLayout.JAVA_INT, MSG_FLAGS) & SysSocket.MSG_CTRUNC) != 0 || fdOverflow) {
                end("more than " + VhostUser.MAX_FDS + " fds with one message");
                return;
            }
            got += res;
            if (got < VhostUserMessage.HEADER_SIZE) {
                armHeader();
                return;
            }
            int size = buf.get(VhostUser.LE_INT, 8);
            if (size < 0 || size > VhostUserMessage.MAX_PAYLOAD_SIZE) {
                end("message payload of " + Integer.toUnsignedString(size) + " bytes");
                return;
            }
            payloadSize = size;
            got = 0;
            if (size == 0) {
                dispatch();
            } else {
                armPayload();
            }
        } else {
            got += res;
            if (got < payloadSize) {
                armPayload();
            } else {
                dispatch();
            }
        }
    }

    private void takeControlFds() {
        long len = msghdr.get(ValueLayout.JAVA_LONG, MSG_CONTROLLEN);
        for (long h = Cmsg.first(control, len); h >= 0; h = Cmsg.next(control, len, h)) {
            if (Cmsg.level(control, h) != SysSocket.SOL_SOCKET || Cmsg.type(control, h) != SysSocket.SCM_RIGHTS) {
                continue;
            }
            long n = Cmsg.dataLength(control, len, h) / 4;
            for (long k = 0; k < n; k++) {
                int f = control.get(ValueLayout.JAVA_INT, Cmsg.data(h) + 4 * k);
                if (fdCount < fds.length) {
                    fds[fdCount++] = f;
                } else {
                    Posix.close(f);
                    fdOverflow = true;
                }
            }
        }
        msghdr.set(ValueLayout.JAVA_LONG, MSG_CONTROLLEN, 0);
    }

    private void dispatch() {
        int r;
        try {
            r = handler.handle(buf, VhostUserMessage.HEADER_SIZE + payloadSize, this);
        } catch (VhostUserException e) {
            closeUntakenFds();
            end(e.getMessage());
            return;
        } catch (RuntimeException e) {
            closeUntakenFds();
            LOG.log(System.Logger.Level.ERROR, "vhost-user-blk export '" + export.id() + "'", e);
            end(e.toString());
            return;
        }
        closeUntakenFds();
        got = 0;
        deferred = r == VhostUserHandler.DEFERRED;
        resume();
    }

    /** Reads the next message unless an answer or a queue stop is pending. */
    private void resume() {
        if (ending || deferred || recvOp != -1 || device.pendingStops() > 0) {
            return;
        }
        armHeader();
    }

    private void closeUntakenFds() {
        for (int i = 0; i < fdCount; i++) {
            if (fds[i] >= 0) {
                Posix.close(fds[i]);
            }
            fds[i] = -1;
        }
        fdCount = 0;
        fdOverflow = false;
    }

    // ---- VhostUserChannel

    @Override
    public int fdCount() {
        return fdCount;
    }

    @Override
    public int takeFd(int i) {
        if (i < 0 || i >= fdCount) {
            return -1;
        }
        int f = fds[i];
        fds[i] = -1;
        return f;
    }

    @Override
    public void send(MemorySegment message, int length, int sendFd) throws VhostUserException {
        sendIov.set(ValueLayout.JAVA_LONG, 0, message.address());
        sendIov.set(ValueLayout.JAVA_LONG, 8, length);
        sendHdr.fill((byte) 0);
        sendHdr.set(ValueLayout.JAVA_LONG, MSG_IOV, sendIov.address());
        sendHdr.set(ValueLayout.JAVA_LONG, MSG_IOVLEN, 1);
        if (sendFd >= 0) {
            Cmsg.put(sendControl, 0, SysSocket.SOL_SOCKET, SysSocket.SCM_RIGHTS, 4);
            sendControl.set(ValueLayout.JAVA_INT, Cmsg.data(0), sendFd);
            sendHdr.set(ValueLayout.JAVA_LONG, MSG_CONTROL, sendControl.address());
            sendHdr.set(ValueLayout.JAVA_LONG, MSG_CONTROLLEN, Cmsg.space(4));
        }
        long n;
        do {
            n = Posix.sendmsg(fd, sendHdr, SysSocket.MSG_NOSIGNAL | SysSocket.MSG_DONTWAIT);
        } while (n == -Errno.EINTR);
        if (n != length) {
            throw new VhostUserException(n < 0 ? "reply failed: " + Errno.message((int) n)
                    : "the front end does not read its replies");
        }
    }

    // ---- events from the device and the export

    /** A queue stop the device deferred is done (session thread). */
    void queueStopped(int index, int base) {
        if (finished) {
            return;
        }
        try {
            handler.queueStopped(index, base, this);
            if (deferred && index == buf.get(VhostUser.LE_INT, VhostUserMessage.HEADER_SIZE)) {
                deferred = false;
            }
        } catch (VhostUserException e) {
            end(e.getMessage());
        }
    }

    /** After the device's pending stops changed: continue reading, or finish ending. */
    void stopsSettled() {
        if (ending) {
            tryFinish();
        } else {
            resume();
        }
    }

    /** The node's length changed: new capacity in the config space, and a config-change message to the front end. */
    void capacityChanged(long length) {
        device.config().setCapacity(length);
        int bfd = handler.backendRequestFd();
        if (ending || bfd < 0 || !handler.hasProtocolFeature(VhostUser.PROTOCOL_F_CONFIG)) {
            return;
        }
        int n = handler.configChangeMessage(backendBuf);
        // no ack asked for: nothing on this thread waits for the front end's answer
        backendBuf.set(VhostUser.LE_INT, 4, backendBuf.get(VhostUser.LE_INT, 4) & ~VhostUser.FLAG_NEED_REPLY);
        long r = Posix.send(bfd, backendBuf, n, SysSocket.MSG_NOSIGNAL | SysSocket.MSG_DONTWAIT);
        if (r != n) {
            LOG.log(System.Logger.Level.WARNING, "vhost-user-blk export '" + export.id()
                    + "': config-change message not sent: " + (r < 0 ? Errno.message((int) r) : "short send"));
        }
    }

    /** Ends the session (idempotent); the export hears {@link VhostUserBlkExport#sessionEnded} once all is freed. */
    void end(String reason) {
        if (ending) {
            return;
        }
        ending = true;
        LOG.log(System.Logger.Level.INFO, "vhost-user-blk export '" + export.id() + "': session ends: " + reason);
        if (timerOp != -1) {
            thread.cancel(timerOp);
        }
        Posix.shutdown(fd, SysSocket.SHUT_RDWR);
        if (recvOp != -1) {
            thread.cancel(recvOp);
        }
        handler.stopAll();
        tryFinish();
    }

    private void tryFinish() {
        if (!ending || finished || recvOp != -1 || timerOp != -1 || device.pendingStops() > 0) {
            return;
        }
        finished = true;
        closeUntakenFds();
        handler.close();
        device.close();
        Posix.close(fd);
        arena.close();
        export.sessionEnded(this);
    }
}
