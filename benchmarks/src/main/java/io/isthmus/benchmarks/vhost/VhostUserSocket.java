package io.isthmus.benchmarks.vhost;

import io.isthmus.bindings.Cmsg;
import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysSocket;
import io.isthmus.bindings.SysUio;
import io.isthmus.bindings.SysUn;
import io.isthmus.engine.export.vhostuser.VhostUser;
import io.isthmus.engine.export.vhostuser.VhostUserException;
import io.isthmus.engine.export.vhostuser.VhostUserMessage;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * The front end's side of a vhost-user control socket: connects to the back end's UNIX socket, sends requests
 * encoded by the engine's {@link VhostUserMessage} (with fds attached by SCM_RIGHTS where the request carries
 * them) and decodes the back end's replies with the same codec. With REPLY_ACK negotiated ({@link #replyAck}),
 * every request that has no reply of its own asks for one and waits for the ack, so a back end's refusal is
 * an error here and not a silent misconfiguration.
 *
 * <p>Thread use: the front end's main thread only (set-up and the final GET_VRING_BASE); the socket is blocking.
 * Memory: one confined arena for the message and control buffers, closed with the socket. Errors: IOException
 * naming the request and the errno or the back end's answer.
 */
final class VhostUserSocket implements AutoCloseable {
    private static final long MSG_IOV = SysSocket.msghdr.byteOffset(PathElement.groupElement("msg_iov"));
    private static final long MSG_IOVLEN = SysSocket.msghdr.byteOffset(PathElement.groupElement("msg_iovlen"));
    private static final long MSG_CONTROL = SysSocket.msghdr.byteOffset(PathElement.groupElement("msg_control"));
    private static final long MSG_CONTROLLEN = SysSocket.msghdr.byteOffset(
            PathElement.groupElement("msg_controllen"));

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buf = arena.allocate(VhostUserMessage.MAX_MESSAGE_SIZE, 8);
    private final MemorySegment iov = arena.allocate(SysUio.iovec);
    private final MemorySegment control = arena.allocate(Cmsg.space(4L * VhostUser.MAX_FDS), 8);
    private final MemorySegment msghdr = arena.allocate(SysSocket.msghdr);
    private final VhostUserMessage out = new VhostUserMessage();
    private final VhostUserMessage in = new VhostUserMessage();
    private final int fd;
    /** REPLY_ACK was negotiated: requests without a reply of their own set NEED_REPLY and wait for the ack. */
    boolean replyAck;

    private VhostUserSocket(int fd) {
        this.fd = fd;
    }

    /** Connects to the back end listening on {@code path}. */
    static VhostUserSocket connect(String path) throws IOException {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        if (p.length > 107) {
            throw new IOException("socket path longer than 107 bytes: " + path);
        }
        int fd = Posix.socket(SysSocket.AF_UNIX, SysSocket.SOCK_STREAM | SysSocket.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IOException("socket: " + Errno.name(-fd));
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sun = a.allocate(SysUn.sockaddr_un);
            sun.set(ValueLayout.JAVA_SHORT, 0, (short) SysSocket.AF_UNIX);
            MemorySegment.copy(p, 0, sun, ValueLayout.JAVA_BYTE, 2, p.length);
            int r = Posix.connect(fd, sun, (int) SysUn.sockaddr_un.byteSize());
            if (r < 0) {
                Posix.close(fd);
                throw new IOException("connect " + path + ": " + Errno.name(-r));
            }
        }
        return new VhostUserSocket(fd);
    }

    /** The reusable outgoing message: fill its fields, then {@link #request}. */
    VhostUserMessage message(int request) {
        out.request = request;
        out.flags = VhostUser.VERSION;
        return out;
    }

    /** Sends a request without payload fields (the GET requests) and returns its reply. */
    VhostUserMessage request0(int request) throws IOException {
        message(request);
        return request();
    }

    /**
     * Sends the message last returned by {@link #message} with {@code fds} attached, and waits for its reply (the
     * GET requests) or its ack (REPLY_ACK). Returns the decoded reply (reused), or null if none was expected.
     */
    VhostUserMessage request(int... fds) throws IOException {
        int request = out.request;
        boolean reply = VhostUserMessage.hasReply(request);
        if (!reply && replyAck) {
            out.flags |= VhostUser.FLAG_NEED_REPLY;
        }
        int len = out.encode(buf, 0);
        send(len, fds);
        if (!reply && !replyAck) {
            return null;
        }
        receive(request);
        if (!reply && in.u64 != 0) {
            throw new IOException(VhostUser.requestName(request) + " refused by the back end (ack " + in.u64 + ")");
        }
        return in;
    }

    private void send(int len, int[] fds) throws IOException {
        iov.set(ValueLayout.JAVA_LONG, 0, buf.address());
        iov.set(ValueLayout.JAVA_LONG, 8, len);
        msghdr.fill((byte) 0);
        msghdr.set(ValueLayout.ADDRESS, MSG_IOV, iov);
        msghdr.set(ValueLayout.JAVA_LONG, MSG_IOVLEN, 1);
        if (fds.length > 0) {
            long space = Cmsg.space(4L * fds.length);
            control.fill((byte) 0);
            Cmsg.put(control, 0, SysSocket.SOL_SOCKET, SysSocket.SCM_RIGHTS, 4L * fds.length);
            for (int i = 0; i < fds.length; i++) {
                control.set(ValueLayout.JAVA_INT, Cmsg.data(0) + 4L * i, fds[i]);
            }
            msghdr.set(ValueLayout.ADDRESS, MSG_CONTROL, control);
            msghdr.set(ValueLayout.JAVA_LONG, MSG_CONTROLLEN, space);
        }
        long n = Posix.sendmsg(fd, msghdr, SysSocket.MSG_NOSIGNAL);
        if (n < 0) {
            throw new IOException(VhostUser.requestName(out.request) + ": sendmsg: " + Errno.name((int) -n));
        }
        if (n != len) {
            // fds went with the first byte; the rest is plain bytes
            sendAll(buf.asSlice(n, len - n));
        }
    }

    private void sendAll(MemorySegment s) throws IOException {
        long off = 0;
        while (off < s.byteSize()) {
            long n = Posix.send(fd, s.asSlice(off), s.byteSize() - off, SysSocket.MSG_NOSIGNAL);
            if (n < 0) {
                throw new IOException(VhostUser.requestName(out.request) + ": send: " + Errno.name((int) -n));
            }
            off += n;
        }
    }

    private void receive(int request) throws IOException {
        recvExactly(buf, 0, VhostUserMessage.HEADER_SIZE, request);
        try {
            int size = in.decodeHeader(buf, 0);
            if (!in.isReply() || in.request != request) {
                throw new IOException("expected the reply to " + VhostUser.requestName(request) + ", got "
                        + VhostUser.requestName(in.request) + " flags 0x" + Integer.toHexString(in.flags));
            }
            recvExactly(buf, VhostUserMessage.HEADER_SIZE, size, request);
            in.decodePayload(buf, VhostUserMessage.HEADER_SIZE);
        } catch (VhostUserException e) {
            throw new IOException("bad reply to " + VhostUser.requestName(request) + ": " + e.getMessage(), e);
        }
    }

    private void recvExactly(MemorySegment s, long at, long len, int request) throws IOException {
        long off = 0;
        while (off < len) {
            long n = Posix.recv(fd, s.asSlice(at + off, len - off), len - off, 0);
            if (n == -Errno.EINTR) {
                continue;
            }
            if (n < 0) {
                throw new IOException(VhostUser.requestName(request) + " reply: recv: " + Errno.name((int) -n));
            }
            if (n == 0) {
                throw new IOException("the back end closed the connection before answering "
                        + VhostUser.requestName(request));
            }
            off += n;
        }
    }

    @Override
    public void close() {
        Posix.close(fd);
        arena.close();
    }
}
