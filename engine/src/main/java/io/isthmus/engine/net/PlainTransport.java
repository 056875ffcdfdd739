package io.isthmus.engine.net;

import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysSocket;
import io.isthmus.engine.loop.Completion;
import io.isthmus.engine.loop.IoThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A {@link Transport} straight on the socket: io_uring recv (MSG_WAITALL for payloads received in place) and
 * sendmsg over the caller's iovec array, so data moves between the kernel and the request buffers with no copy.
 *
 * <p>Thread use: the IoThread given to {@link #start}. Memory: one {@code struct msghdr} from the connection's
 * arena. Completions carry {@code >= 0} or {@code -errno} and go to the sink unchanged.
 */
public final class PlainTransport implements Transport, Completion {
    private static final long TAG_RECV = 1, TAG_SEND = 2;
    private static final long MSG_IOV = SysSocket.msghdr.byteOffset(java.lang.foreign.MemoryLayout.PathElement
            .groupElement("msg_iov"));
    private static final long MSG_IOVLEN = SysSocket.msghdr.byteOffset(java.lang.foreign.MemoryLayout.PathElement
            .groupElement("msg_iovlen"));

    private final int fd;
    private IoThread thread;
    private Sink sink;
    private MemorySegment msghdr;

    public PlainTransport(int fd) {
        this.fd = fd;
    }

    @Override
    public void start(IoThread thread, Sink sink, Arena arena) {
        this.thread = thread;
        this.sink = sink;
        this.msghdr = arena.allocate(SysSocket.msghdr);
    }

    @Override
    public long recv(MemorySegment buf, boolean waitAll) {
        thread.recv(fd, buf, waitAll ? SysSocket.MSG_WAITALL : 0, this, TAG_RECV);
        return PENDING;
    }

    @Override
    public long sendv(MemorySegment iov, int count) {
        msghdr.set(ValueLayout.ADDRESS, MSG_IOV, iov);
        msghdr.set(ValueLayout.JAVA_LONG, MSG_IOVLEN, count);
        thread.sendmsg(fd, msghdr, SysSocket.MSG_NOSIGNAL, this, TAG_SEND);
        return PENDING;
    }

    @Override
    public void complete(int res, int flags, long tag) {
        if (tag == TAG_RECV) {
            sink.received(res);
        } else {
            sink.sent(res);
        }
    }

    @Override
    public void shutdown() {
        Posix.shutdown(fd, SysSocket.SHUT_RDWR);
    }

    @Override
    public void close() {
        Posix.close(fd);
    }

    @Override
    public String failure() {
        return null;
    }
}
