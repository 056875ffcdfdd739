package io.isthmus.engine.export.fuse;

import static io.isthmus.engine.export.fuse.FuseProtocol.*;
import static io.isthmus.engine.export.fuse.FuseWire.*;
import static org.junit.jupiter.api.Assertions.*;

import io.isthmus.bindings.Poll;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysSocket;
import io.isthmus.engine.loop.IoThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The serving core without a mount: one end of a SOCK_SEQPACKET pair stands in for /dev/fuse (one record per
 * request, one per reply, as the device), the test plays the kernel with hand-built requests.
 */
class FuseQueueTest {
    static final int MiB = 1024 * 1024;
    IoThread io;
    Arena arena;
    int kernelFd, serverFd;
    FuseTestNode node;
    FuseServer server;
    final AtomicInteger aborts = new AtomicInteger();
    final AtomicReference<String> halt = new AtomicReference<>();

    @BeforeEach
    void setUp() {
        io = IoThread.start("fuse-queue-test");
        arena = Arena.ofShared();
        MemorySegment sv = arena.allocate(ValueLayout.JAVA_INT, 2);
        assertEquals(0, Posix.socketpair(SysSocket.AF_UNIX, SysSocket.SOCK_SEQPACKET | SysSocket.SOCK_CLOEXEC, 0, sv));
        kernelFd = sv.getAtIndex(ValueLayout.JAVA_INT, 0);
        serverFd = sv.getAtIndex(ValueLayout.JAVA_INT, 1);
    }

    void serve(boolean writable, boolean growable, long length) {
        node = new FuseTestNode(length, 16L * MiB);
        FuseExportConfig cfg = new FuseExportConfig(writable, growable, false, MiB, 8, 1000, 1000);
        server = FuseServer.serveFd("test", new FuseFile((FuseNode) node, node, cfg), io, serverFd, aborts::incrementAndGet);
        server.onHalt(halt::set);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (server != null) {
            server.stop().get(10, TimeUnit.SECONDS);
        }
        io.close();
        Posix.close(kernelFd);
        Posix.close(serverFd);
        arena.close();
    }

    void send(byte[] b) {
        MemorySegment s = arena.allocate(Math.max(1, b.length));
        MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, 0, b.length);
        assertEquals(b.length, Posix.send(kernelFd, s, b.length, 0));
    }

    /** The next reply, or null when none comes within {@code millis}. */
    Reply recv(int millis) {
        MemorySegment p = arena.allocate(Poll.pollfd);
        p.set(ValueLayout.JAVA_INT, 0, kernelFd);
        p.set(ValueLayout.JAVA_SHORT, 4, (short) Poll.POLLIN);
        if (Posix.poll(p, 1, millis) <= 0) {
            return null;
        }
        MemorySegment buf = arena.allocate(2 * MiB);
        long n = Posix.recv(kernelFd, buf, buf.byteSize(), 0);
        assertTrue(n >= 16, "reply of " + n + " bytes");
        byte[] b = buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        Reply r = Reply.of(b, (int) n);
        assertEquals(n, r.len(), "header length = bytes written");
        return r;
    }

    Reply call(byte[] request) {
        send(request);
        Reply r = recv(5000);
        assertNotNull(r, "a reply");
        return r;
    }

    @Test
    void initNegotiatesLargeRequests() {
        serve(true, false, MiB);
        long offered = ASYNC_READ | ATOMIC_O_TRUNC | BIG_WRITES | ASYNC_DIO | PARALLEL_DIROPS | MAX_PAGES
                | WRITEBACK_CACHE | SPLICE_READ | INIT_EXT;
        Reply r = call(req(INIT, 2, initIn(7, 41, offered)));
        assertEquals(0, r.error());
        assertEquals(2, r.unique());
        assertEquals(16 + INIT_OUT_SIZE, r.len());
        var b = r.body();
        assertEquals(7, b.getInt(0));
        assertEquals(38, b.getInt(4));
        assertEquals(128 * 1024, b.getInt(8));
        long flags = Integer.toUnsignedLong(b.getInt(12)) | (long) b.getInt(32) << 32;
        assertEquals(FuseInit.WANTED, flags, "exactly the wanted flags the kernel offered (no writeback cache)");
        assertEquals(MiB, b.getInt(20), "max_write");
        assertEquals(256, b.getShort(28), "max_pages");
        assertTrue(server.initialized());
        assertEquals(41, server.protocolMinor());
        // an older kernel keeps its minor
        assertEquals(31, call(req(INIT, 4, initIn(7, 31, ASYNC_READ))).body().getInt(4));
        assertEquals(-71, call(req(INIT, 6, initIn(6, 0, 0))).error(), "EPROTO before 7");
    }

    @Test
    void readWriteGetattr() {
        serve(true, false, 4 * MiB);
        byte[] w = new byte[200_000];
        new Random(1).nextBytes(w);
        Reply r = call(req(WRITE, 10, writeIn(5000, w)));
        assertEquals(0, r.error());
        assertEquals(w.length, r.body().getInt(0));
        r = call(req(READ, 12, readIn(5000, w.length)));
        assertEquals(0, r.error());
        assertEquals(16 + w.length, r.len());
        byte[] got = new byte[w.length];
        r.body().get(got);
        assertArrayEquals(w, got);
        // across EOF: short; at EOF: empty
        assertEquals(16 + 100, call(req(READ, 14, readIn(4 * MiB - 100, 4096))).len());
        assertEquals(16, call(req(READ, 16, readIn(4 * MiB, 4096))).len());
        r = call(req(GETATTR, 18, zeros(16)));
        assertEquals(ATTR_OUT_SIZE, r.len() - 16);
        assertEquals(1, r.body().getLong(0), "attr_valid 1 s");
        assertEquals(1, r.body().getLong(16), "ino");
        assertEquals(4L * MiB, r.body().getLong(24), "size");
        assertEquals(4 * 128, r.body().getLong(32), "blocks: 4 allocated 64 KiB clusters");
        assertEquals(S_IFREG | 0600, r.body().getInt(16 + 60), "mode");
        assertEquals(1000, r.body().getInt(16 + 68), "uid");
    }

    @Test
    void badLengthsGetEinvalAndUnknownOpcodesEnosys() {
        serve(true, false, MiB);
        // a WRITE whose payload disagrees with its size
        byte[] wi = writeIn(0, new byte[100]);
        assertEquals(-22, call(req(WRITE, 2, Arrays.copyOf(wi, wi.length - 1))).error());
        assertEquals(-22, call(req(READ, 4, zeros(39))).error());
        assertEquals(-22, call(req(READ, 6, readIn(0, MiB + 1))).error(), "larger than negotiated");
        assertEquals(-22, call(req(GETATTR, 8, zeros(17))).error());
        assertEquals(-22, call(req(SETATTR, 10, zeros(87))).error());
        assertEquals(-22, call(req(STATFS, 12, zeros(1))).error());
        assertEquals(-22, call(req(FALLOCATE, 14, fallocateIn(0, -1, 0))).error());
        assertEquals(-38, call(req(READDIR, 16, zeros(40))).error());
        assertEquals(-38, call(req(INTERRUPT, 19, u64(16))).error());
        assertEquals(-2, call(req(LOOKUP, 20, "x\0".getBytes())).error());
        // FORGET gets no reply: the next reply is the next request's
        send(req(FORGET, 22, u64(1)));
        assertEquals(24, call(req(FLUSH, 24, zeros(24))).unique());
        assertFalse(server.halted());
    }

    @Test
    void aHeaderThatDisagreesWithTheReadHaltsTheExport() {
        serve(true, false, MiB);
        assertEquals(0, call(req(GETATTR, 2, zeros(16))).error());
        send(req(GETATTR, 4, zeros(16), 40 + 17));
        assertNull(recv(300), "no reply to a request that cannot be trusted");
        assertTrue(server.halted());
        assertNotNull(halt.get());
        assertEquals(1, aborts.get(), "the connection is aborted so that no caller hangs");
        send(req(GETATTR, 6, zeros(16)));
        assertNull(recv(300), "nothing is read after the halt");
    }

    @Test
    void aShortReadHaltsTheExport() {
        serve(true, false, MiB);
        send(new byte[12]);
        assertNull(recv(300));
        assertTrue(server.halted());
    }

    @Test
    void setattrRules() {
        serve(true, false, MiB);
        assertEquals(-1, call(req(SETATTR, 2, setattrIn(FATTR_MODE, 0, 0644, 0, 0))).error(), "EPERM: group/other");
        assertEquals(-1, call(req(SETATTR, 4, setattrIn(FATTR_MODE, 0, 04600, 0, 0))).error(), "EPERM: setuid");
        assertEquals(-95, call(req(SETATTR, 6, setattrIn(FATTR_UID, 0, 0, 0, 0))).error(), "owner: allow_other only");
        Reply r = call(req(SETATTR, 8, setattrIn(FATTR_MODE | FATTR_MTIME | FATTR_ATIME, 0, 0400, 1234, 5678)));
        assertEquals(0, r.error());
        assertEquals(S_IFREG | 0400, r.body().getInt(16 + 60));
        assertEquals(1234, r.body().getLong(16 + 24));
        assertEquals(5678, r.body().getLong(16 + 32));
        r = call(req(SETATTR, 10, setattrIn(FATTR_SIZE, 3 * MiB, 0, 0, 0)));
        assertEquals(0, r.error());
        assertEquals(3L * MiB, r.body().getLong(24));
        assertEquals(3L * MiB, node.length);
        assertEquals(-27, call(req(SETATTR, 12, setattrIn(FATTR_SIZE, 1L << 40, 0, 0, 0))).error(), "EFBIG");
    }

    @Test
    void readOnlyExportRefusesChanges() {
        serve(false, false, MiB);
        assertEquals(-13, call(req(WRITE, 2, writeIn(0, new byte[10]))).error());
        assertEquals(-13, call(req(SETATTR, 4, setattrIn(FATTR_SIZE, 0, 0, 0, 0))).error());
        assertEquals(-30, call(req(SETATTR, 6, setattrIn(FATTR_MODE, 0, 0600, 0, 0))).error());
        assertEquals(-13, call(req(FALLOCATE, 8, fallocateIn(0, 4096, FALLOC_PUNCH_HOLE | FALLOC_KEEP_SIZE))).error());
        assertEquals(-30, call(req(OPEN, 10, le(8).putInt(2).putInt(0).array())).error());
        Reply r = call(req(OPEN, 12, le(8).putInt(0).putInt(0).array()));
        assertEquals(0, r.error());
        assertEquals(FOPEN_DIRECT_IO | FOPEN_PARALLEL_DIRECT_WRITES, r.body().getInt(8));
    }

    @Test
    void blockErrorsReachTheCaller() {
        serve(true, false, MiB);
        node.failNextWithErrno = 5;
        assertEquals(-5, call(req(READ, 2, readIn(0, 4096))).error());
        node.failNextWithErrno = 28;
        assertEquals(-28, call(req(WRITE, 4, writeIn(0, new byte[4096]))).error());
        node.failNextWithErrno = 5;
        assertEquals(-5, call(req(FSYNC, 6, zeros(16))).error());
    }

    @Test
    void fallocateAndLseek() {
        serve(true, false, 2 * MiB);
        assertEquals(0, call(req(WRITE, 2, writeIn(MiB, new byte[4096]))).error());
        assertEquals(-22, call(req(FALLOCATE, 4, fallocateIn(0, 4096, FALLOC_PUNCH_HOLE))).error(), "punch needs keep-size");
        assertEquals(-95, call(req(FALLOCATE, 6, fallocateIn(0, 4096, 0x08))).error(), "collapse");
        assertEquals(-95, call(req(FALLOCATE, 8, fallocateIn(2 * MiB, 4096, 0))).error(), "allocate past EOF: not growable");
        assertEquals(-95, call(req(FALLOCATE, 10, fallocateIn(0, 4096, 0))).error(), "inside: QEMU's EOPNOTSUPP");
        assertEquals(-95, call(req(FALLOCATE, 11, fallocateIn(0, 4096, FALLOC_KEEP_SIZE))).error());
        assertEquals(MiB, call(req(LSEEK, 12, lseekIn(0, SEEK_DATA))).body().getLong(0));
        assertEquals(MiB + 65536, call(req(LSEEK, 14, lseekIn(MiB, SEEK_HOLE))).body().getLong(0));
        assertEquals(-6, call(req(LSEEK, 16, lseekIn(MiB + 65536, SEEK_DATA))).error(), "ENXIO: no data after");
        assertEquals(-22, call(req(LSEEK, 18, lseekIn(0, 1))).error(), "SEEK_CUR is the kernel's");
        node.failNextWithErrno = 95;
        assertEquals(4096, call(req(LSEEK, 17, lseekIn(4096, SEEK_DATA))).body().getLong(0), "no block status: data");
        node.failNextWithErrno = 95;
        assertEquals(2 * MiB, call(req(LSEEK, 19, lseekIn(4096, SEEK_HOLE))).body().getLong(0), "...up to EOF");
        node.failNextWithErrno = 95;
        assertEquals(-95, call(req(FALLOCATE, 19, fallocateIn(MiB, 65536, FALLOC_PUNCH_HOLE | FALLOC_KEEP_SIZE))).error(),
                "a node that cannot zero without writing: EOPNOTSUPP, no discard");
        assertEquals(MiB, call(req(LSEEK, 21, lseekIn(0, SEEK_DATA))).body().getLong(0), "still data");
        assertEquals(0, call(req(FALLOCATE, 20, fallocateIn(MiB, 65536, FALLOC_PUNCH_HOLE | FALLOC_KEEP_SIZE))).error());
        assertEquals(-6, call(req(LSEEK, 22, lseekIn(0, SEEK_DATA))).error());
        Reply s = call(req(STATFS, 24, zeros(0)));
        assertEquals(STATFS_OUT_SIZE, s.len() - 16);
        assertEquals(2L * MiB / 512, s.body().getLong(0));
        assertEquals(512, s.body().getInt(40));
    }

    @Test
    void stopWaitsForTheRequestInFlight() throws Exception {
        serve(true, false, MiB);
        assertEquals(0, call(req(GETATTR, 2, zeros(16))).error());
        server.stop().get(5, TimeUnit.SECONDS);
        send(req(GETATTR, 4, zeros(16)));
        assertNull(recv(200), "nothing is read after stop");
    }

    @Test
    void attributeInvalidationAndOpenHandles() {
        serve(true, false, MiB);
        assertEquals(0, server.invalidateAttributes(), "before INIT: nothing sent");
        assertEquals(0, call(req(INIT, 2, initIn(7, 38, ASYNC_READ))).error());
        assertEquals(0, server.invalidateAttributes());
        Reply n = recv(2000);
        assertNotNull(n);
        assertEquals(0, n.unique(), "a notification");
        assertEquals(NOTIFY_INVAL_INODE, n.error());
        assertEquals(1, n.body().getLong(0), "ino");
        assertEquals(-1, n.body().getLong(8), "attributes only");
        assertEquals(0, call(req(OPEN, 4, le(8).putInt(2).putInt(0).array())).error());
        assertEquals(0, call(req(OPEN, 6, le(8).putInt(0).putInt(0).array())).error());
        assertEquals(2, server.openHandles());
        assertEquals(0, call(req(RELEASE, 8, zeros(24))).error());
        assertEquals(1, server.openHandles());
    }

    @Test
    void anIoThreadClosedUnderTheServerStops() throws Exception {
        serve(true, false, MiB);
        assertEquals(0, call(req(GETATTR, 2, zeros(16))).error());
        java.util.concurrent.CompletableFuture.runAsync(io::close).get(10, TimeUnit.SECONDS);
        assertTrue(io.terminated().isDone(), "the queue does not re-arm into the IoThread's cancel loop");
        server.stop().get(5, TimeUnit.SECONDS);
    }
}
