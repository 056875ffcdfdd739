package io.isthmus.engine.export.vhostuser;

import io.isthmus.bindings.Cmsg;
import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Poll;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysEventfd;
import io.isthmus.bindings.SysMman;
import io.isthmus.bindings.SysSocket;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Test support: the smallest vhost-user-blk front end that does I/O: one UNIX socket connection, 1 MiB of guest
 * memory in a memfd, one split queue of 8 entries with kick and call eventfds, one request at a time (header, data,
 * status descriptors), completion seen by polling the used index. Blocking calls; one thread at a time.
 */
final class MiniFrontEnd implements AutoCloseable {
    private static final long MEM = 1 << 20;
    private static final int QSIZE = 8;
    private static final long DESC = 0, AVAIL = 128, USED = 256, HDR = 4096, STATUS = HDR + 16, DATA = 8192;
    private static final long UADDR = 0x7000_0000_0000L;

    private final Arena arena = Arena.ofShared();
    private final int sock;
    private final int memfd;
    private final MemorySegment mem;
    private int kick;
    private final int call;
    private final MemorySegment msg = arena.allocate(VhostUserMessage.MAX_MESSAGE_SIZE, 8);
    private final VhostUserMessage m = new VhostUserMessage();
    private short availIdx;
    private boolean ready;
    private boolean closed;

    /** Connects (the socket may wait in the export's backlog); {@link #setUp} makes it ready for I/O. */
    MiniFrontEnd(Path path) throws IOException {
        sock = Posix.socket(SysSocket.AF_UNIX, SysSocket.SOCK_STREAM | SysSocket.SOCK_CLOEXEC, 0);
        MemorySegment sa = arena.allocate(110);
        sa.set(ValueLayout.JAVA_SHORT, 0, (short) SysSocket.AF_UNIX);
        byte[] p = path.toString().getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(p, 0, sa, ValueLayout.JAVA_BYTE, 2, p.length);
        int r = Posix.connect(sock, sa, 2 + p.length + 1);
        if (r < 0) {
            Posix.close(sock);
            arena.close();
            throw new IOException("connect " + path + ": " + Errno.message(r));
        }
        memfd = Posix.memfdCreate("mini-front-end", 0);
        Posix.ftruncate(memfd, MEM);
        long a = Posix.mmap(0, MEM, SysMman.PROT_READ | SysMman.PROT_WRITE, SysMman.MAP_SHARED, memfd, 0);
        mem = MemorySegment.ofAddress(a).reinterpret(MEM);
        kick = Posix.eventfd(0, SysEventfd.EFD_CLOEXEC);
        call = Posix.eventfd(0, SysEventfd.EFD_CLOEXEC | SysEventfd.EFD_NONBLOCK);
    }

    boolean isReady() {
        return ready;
    }

    /** The session set-up a guest's front end does, for one queue. */
    void setUp() throws IOException {
        long features = request(VhostUser.GET_FEATURES).u64;
        m.u64 = features & (VhostUser.bit(VhostUser.F_VERSION_1) | VhostUser.bit(VhostUser.F_PROTOCOL_FEATURES));
        send(VhostUser.SET_FEATURES, -1);
        request(VhostUser.GET_PROTOCOL_FEATURES);
        m.u64 = VhostUser.bit(VhostUser.PROTOCOL_F_CONFIG) | VhostUser.bit(VhostUser.PROTOCOL_F_MQ);
        send(VhostUser.SET_PROTOCOL_FEATURES, -1);
        send(VhostUser.SET_OWNER, -1);
        m.regionCount = 1;
        m.regions[0] = new MemoryRegionDescriptor(0, MEM, UADDR, 0);
        send(VhostUser.SET_MEM_TABLE, memfd);
        state(VhostUser.SET_VRING_NUM, QSIZE);
        m.vringIndex = 0;
        m.addrFlags = 0;
        m.descAddr = UADDR + DESC;
        m.availAddr = UADDR + AVAIL;
        m.usedAddr = UADDR + USED;
        m.logAddr = 0;
        send(VhostUser.SET_VRING_ADDR, -1);
        state(VhostUser.SET_VRING_BASE, 0);
        m.u64 = 0;
        send(VhostUser.SET_VRING_CALL, call);
        m.u64 = 0;
        send(VhostUser.SET_VRING_KICK, kick);
        state(VhostUser.SET_VRING_ENABLE, 1);
        ready = true;
    }

    /** Replaces the kick eventfd of the running queue (the back end restarts the queue on the new one). */
    void replaceKick() throws IOException {
        int old = kick;
        kick = Posix.eventfd(0, SysEventfd.EFD_CLOEXEC | SysEventfd.EFD_NONBLOCK);
        m.u64 = 0;
        send(VhostUser.SET_VRING_KICK, kick);
        Posix.close(old);
    }

    /** Stops the queue as QEMU does (SET_VRING_ENABLE 0, then GET_VRING_BASE) and returns the base. */
    int stopQueue() throws IOException {
        state(VhostUser.SET_VRING_ENABLE, 0);
        m.vringIndex = 0;
        m.vringNum = 0;
        return request(VhostUser.GET_VRING_BASE).vringNum;
    }

    /** Sends the memory table again (a front end's memory layout changed): the back end remaps a running queue. */
    void resendMemTable() throws IOException {
        m.regionCount = 1;
        m.regions[0] = new MemoryRegionDescriptor(0, MEM, UADDR, 0);
        send(VhostUser.SET_MEM_TABLE, memfd);
    }

    /** The capacity in bytes, from the config space (GET_CONFIG). */
    long size() throws IOException {
        m.configOffset = 0;
        m.configSize = 8;
        m.configFlags = 0;
        VhostUserMessage r = request(VhostUser.GET_CONFIG);
        return r.config.get(VhostUser.LE_LONG, 0) << 9;
    }

    byte[] read(long offset, int length) throws IOException {
        io(VirtioBlk.T_IN, offset, length);
        byte[] b = new byte[length];
        MemorySegment.copy(mem, ValueLayout.JAVA_BYTE, DATA, b, 0, length);
        return b;
    }

    void write(long offset, byte[] data) throws IOException {
        MemorySegment.copy(data, 0, mem, ValueLayout.JAVA_BYTE, DATA, data.length);
        io(VirtioBlk.T_OUT, offset, data.length);
    }

    /** DISCARD or WRITE_ZEROES of one segment (the UNMAP flag for write-zeroes when {@code unmap}). */
    void zeroOrDiscard(int type, long offset, int length, boolean unmap) throws IOException {
        mem.set(VhostUser.LE_LONG, DATA, offset >> 9);
        mem.set(VhostUser.LE_INT, DATA + 8, length >> 9);
        mem.set(VhostUser.LE_INT, DATA + 12, unmap ? VirtioBlk.WRITE_ZEROES_FLAG_UNMAP : 0);
        io(type, 0, 16);
    }

    private void io(int type, long offset, int length) throws IOException {
        mem.set(VhostUser.LE_INT, HDR, type);
        mem.set(VhostUser.LE_INT, HDR + 4, 0);
        mem.set(VhostUser.LE_LONG, HDR + 8, offset >> 9);
        mem.set(ValueLayout.JAVA_BYTE, STATUS, (byte) 0xFF);
        desc(0, HDR, 16, SplitVirtqueue.DESC_F_NEXT, 1);
        desc(1, DATA, length, SplitVirtqueue.DESC_F_NEXT | (type == VirtioBlk.T_IN ? SplitVirtqueue.DESC_F_WRITE : 0),
                2);
        desc(2, STATUS, 1, SplitVirtqueue.DESC_F_WRITE, 0);
        short used = mem.get(VhostUser.LE_SHORT, USED + 2);
        mem.set(VhostUser.LE_SHORT, AVAIL + 4 + 2L * (availIdx & (QSIZE - 1)), (short) 0);
        availIdx++;
        java.lang.invoke.VarHandle.fullFence();
        mem.set(VhostUser.LE_SHORT, AVAIL + 2, availIdx);
        java.lang.invoke.VarHandle.fullFence();
        MemorySegment one = arena.allocate(8);
        one.set(ValueLayout.JAVA_LONG, 0, 1);
        Posix.write(kick, one, 8);
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (mem.get(VhostUser.LE_SHORT, USED + 2) == used) {
            if (System.nanoTime() > deadline || dropped(5)) {
                throw new IOException("no completion");
            }
        }
        java.lang.invoke.VarHandle.fullFence();
        byte status = mem.get(ValueLayout.JAVA_BYTE, STATUS);
        if (status != VirtioBlk.S_OK) {
            throw new IOException("virtio-blk status " + status);
        }
    }

    private void desc(int i, long addr, int len, int flags, int next) {
        long d = DESC + 16L * i;
        mem.set(VhostUser.LE_LONG, d, addr);
        mem.set(VhostUser.LE_INT, d + 8, len);
        mem.set(VhostUser.LE_SHORT, d + 12, (short) flags);
        mem.set(VhostUser.LE_SHORT, d + 14, (short) next);
    }

    /** Whether the back end closed the connection within {@code millis}. */
    boolean dropped(int millis) {
        MemorySegment pfd = arena.allocate(Poll.pollfd);
        pfd.set(ValueLayout.JAVA_INT, 0, sock);
        pfd.set(ValueLayout.JAVA_SHORT, 4, (short) Poll.POLLIN);
        int n = Posix.poll(pfd, 1, millis);
        if (n <= 0) {
            return false;
        }
        MemorySegment b = arena.allocate(64);
        long r = Posix.recv(sock, b, 64, SysSocket.MSG_DONTWAIT | SysSocket.MSG_PEEK);
        return r <= 0 && r != -Errno.EAGAIN;
    }

    private void state(int request, int num) throws IOException {
        m.vringIndex = 0;
        m.vringNum = num;
        send(request, -1);
    }

    private VhostUserMessage request(int request) throws IOException {
        send(request, -1);
        return receive(request);
    }

    private void send(int request, int fd) throws IOException {
        m.request = request;
        m.flags = VhostUser.VERSION;
        int len = m.encode(msg, 0);
        MemorySegment iov = arena.allocate(16, 8);
        iov.set(ValueLayout.JAVA_LONG, 0, msg.address());
        iov.set(ValueLayout.JAVA_LONG, 8, len);
        MemorySegment hdr = arena.allocate(SysSocket.msghdr);
        hdr.set(ValueLayout.JAVA_LONG, 16, iov.address());
        hdr.set(ValueLayout.JAVA_LONG, 24, 1);
        if (fd >= 0) {
            MemorySegment c = arena.allocate(Cmsg.space(4), 8);
            Cmsg.put(c, 0, SysSocket.SOL_SOCKET, SysSocket.SCM_RIGHTS, 4);
            c.set(ValueLayout.JAVA_INT, Cmsg.data(0), fd);
            hdr.set(ValueLayout.JAVA_LONG, 32, c.address());
            hdr.set(ValueLayout.JAVA_LONG, 40, Cmsg.space(4));
        }
        long n = Posix.sendmsg(sock, hdr, SysSocket.MSG_NOSIGNAL);
        if (n != len) {
            throw new IOException("send " + VhostUser.requestName(request) + ": " + (n < 0 ? Errno.message((int) n)
                    : n + " of " + len));
        }
    }

    private VhostUserMessage receive(int request) throws IOException {
        recvAll(msg, VhostUserMessage.HEADER_SIZE);
        int size = msg.get(VhostUser.LE_INT, 8);
        if (size < 0 || size > VhostUserMessage.MAX_PAYLOAD_SIZE) {
            throw new IOException("reply size " + size);
        }
        if (size > 0) {
            recvAll(msg.asSlice(VhostUserMessage.HEADER_SIZE), size);
        }
        VhostUserMessage r = new VhostUserMessage();
        try {
            r.decode(msg, VhostUserMessage.HEADER_SIZE + size);
        } catch (VhostUserException e) {
            throw new IOException(e.getMessage());
        }
        if (r.request != request) {
            throw new IOException("reply to " + r.request + ", expected " + request);
        }
        return r;
    }

    private void recvAll(MemorySegment into, int n) throws IOException {
        int got = 0;
        while (got < n) {
            long r = Posix.recv(sock, into.asSlice(got), n - got, 0);
            if (r == -Errno.EINTR) {
                continue;
            }
            if (r <= 0) {
                throw new IOException("back end closed the connection" + (r < 0 ? ": " + Errno.message((int) r) : ""));
            }
            got += (int) r;
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Posix.close(sock);
        Posix.close(kick);
        Posix.close(call);
        Posix.munmap(mem.address(), MEM);
        Posix.close(memfd);
        arena.close();
    }
}
