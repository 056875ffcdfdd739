package io.isthmus.engine.export.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.EngineException;
import io.isthmus.engine.export.MemNode;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Lifecycle, limits and hostile clients over a real socket (no external tools needed). */
@Timeout(60)
class NbdServerSocketTest {
    static final NbdExportOptions PLAIN = new NbdExportOptions(null, null, null, false);

    @Test
    void deleteSafeRefusesWithClientsHardDropsThem() throws Exception {
        try (NbdHarness h = new NbdHarness("del")) {
            h.node("disk", 1 << 20);
            h.start(100, 10);
            NbdExport e = h.export("e1", "disk", true, PLAIN);
            try (RawNbdClient c = new RawNbdClient(h.socket).handshake("disk", true)) {
                waitFor(() -> e.clientCount() == 1);
                EngineException ex = assertThrows(EngineException.class, () -> h.manager.delete("e1", false));
                assertEquals("export 'e1' still in use", ex.getMessage());
                assertFalse(e.shuttingDown());
                h.manager.delete("e1", true);
                assertTrue(e.shuttingDown(), "shutting-down while the client goes");
                String again = assertThrows(EngineException.class, () -> h.manager.delete("e1", true)).getMessage();
                assertTrue(again.equals("Export 'e1' is already shutting down")
                        || again.equals("Export 'e1' is not found"), again); // the client may already be gone
                assertTrue(c.closedByServer(), "hard delete drops the client");
                assertEquals("e1", h.deleted.poll(10, TimeUnit.SECONDS));
                assertTrue(h.manager.list().isEmpty());
                assertEquals(0, h.nodes.get("disk").attachCount, "node detached");
            }
            // the id and the name can be reused once it is gone
            h.export("e1", "disk", true, PLAIN);
            assertEquals("Export 'nope' is not found",
                    assertThrows(EngineException.class, () -> h.manager.delete("nope", false)).getMessage());
        }
    }

    @Test
    void commonAddChecksInQemuOrder() throws Exception {
        try (NbdHarness h = new NbdHarness("add")) {
            h.node("disk", 1 << 20);
            h.nodes.put("ro", new MemNode("ro", 1 << 20, true));
            assertEquals("NBD server not running", assertThrows(EngineException.class,
                    () -> h.export("e0", "disk", false, PLAIN)).getMessage());
            h.start(100, 10);
            assertEquals("Invalid block export id", assertThrows(EngineException.class,
                    () -> h.export("0bad", "disk", false, PLAIN)).getMessage());
            h.export("e1", "disk", false, PLAIN);
            assertEquals("Block export id 'e1' is already in use", assertThrows(EngineException.class,
                    () -> h.export("e1", "disk", false, PLAIN)).getMessage());
            assertEquals("Cannot find device='' nor node-name='nosuch'", assertThrows(EngineException.class,
                    () -> h.export("e2", "nosuch", false, PLAIN)).getMessage());
            assertEquals("Cannot export read-only node as writable", assertThrows(EngineException.class,
                    () -> h.export("e2", "ro", true, PLAIN)).getMessage());
            assertEquals("NBD server already has export named 'disk'", assertThrows(EngineException.class,
                    () -> h.export("e2", "disk", false, PLAIN)).getMessage());
            assertEquals("Bitmap 'b9' is not found", assertThrows(EngineException.class, () -> h.export("e3", "disk",
                    false, new NbdExportOptions("x", null, java.util.List.of(new NbdExportOptions.BitmapRef(null,
                            "b9")), false))).getMessage());
            h.export("e4", "ro", false, new NbdExportOptions("r", null, null, false));
            assertEquals(java.util.List.of("e4", "e1"), h.manager.list().stream().map(x -> x.id()).toList(),
                    "newest first");
        }
    }

    @Test
    void handshakeTimeoutDropsSilentClients() throws Exception {
        try (NbdHarness h = new NbdHarness("hs")) {
            h.node("disk", 1 << 20);
            h.start(100, 1);
            try (RawNbdClient c = new RawNbdClient(h.socket)) {
                c.read(18);
                long t0 = System.nanoTime();
                assertTrue(c.closedByServer());
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertTrue(ms > 500 && ms < 5000, "dropped after " + ms + " ms");
            }
        }
    }

    @Test
    void connectionLimitStopsAcceptingUntilAClientLeaves() throws Exception {
        try (NbdHarness h = new NbdHarness("limit")) {
            h.node("disk", 1 << 20);
            h.start(1, 10);
            NbdExport e = h.export("e1", "disk", false, PLAIN);
            assertEquals(0, e.flags() & Nbd.FLAG_CAN_MULTI_CONN, "max-connections=1 suppresses multi-conn");
            RawNbdClient first = new RawNbdClient(h.socket).handshake("disk", false);
            try (RawNbdClient second = new RawNbdClient(h.socket)) {
                second.ch.configureBlocking(false);
                Thread.sleep(300);
                assertEquals(0, second.ch.read(ByteBuffer.allocate(18)), "no greeting while at the limit");
                first.close();
                second.ch.configureBlocking(true);
                byte[] greet = second.read(18);
                assertEquals(Nbd.INIT_MAGIC, ByteBuffer.wrap(greet).getLong());
            }
        }
    }

    @Test
    void hostileRequests() throws Exception {
        try (NbdHarness h = new NbdHarness("hostile")) {
            h.node("disk", 1 << 20);
            h.start(100, 10);
            h.export("e1", "disk", true, PLAIN);
            try (RawNbdClient c = new RawNbdClient(h.socket).handshake("disk", true)) {
                c.request(0, Nbd.CMD_READ, 1, (1 << 20) - 10, 20, null);
                RawNbdClient.Chunk ch = c.chunk();
                assertEquals(Nbd.REPLY_TYPE_ERROR, ch.type());
                assertEquals(1, ch.cookie());
                assertEquals(Nbd.EINVAL, ch.error());
                assertEquals("operation past EOF; From: 1048566, Len: 20, Size: 1048576", ch.message());
                c.request(0, 42, 2, 0, 0, null);
                assertEquals(Nbd.EINVAL, c.chunk().error());
                c.request(0x100, Nbd.CMD_FLUSH, 3, 0, 0, null);
                assertEquals("unsupported flags for command flush (got 0x100)", c.chunk().message());
                c.request(0, Nbd.CMD_READ, 4, 0, 0, null); // zero-length read: DONE chunk
                RawNbdClient.Chunk z = c.chunk();
                assertEquals(Nbd.REPLY_TYPE_NONE, z.type());
                c.request(0, Nbd.CMD_READ, 5, 0, 64 << 20, null);
                assertEquals(Nbd.EINVAL, c.chunk().error());
                c.request(0, Nbd.CMD_BLOCK_STATUS, 6, 0, 4096, null);
                assertEquals("CMD_BLOCK_STATUS not negotiated", c.chunk().message());
                c.request(0, Nbd.CMD_BLOCK_STATUS, 6, 0, 0, null);
                assertEquals("need non-zero length", c.chunk().message());
                c.request(0, 42, 2, 0, 0, null);
                assertEquals("invalid request type (42) received", c.chunk().message());
                // write with payload, then read it back (sparse read of written data)
                byte[] data = new byte[5000];
                Arrays.fill(data, (byte) 7);
                c.request(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, 7, 100, data.length, data);
                assertEquals(0, c.chunk().error());
                c.request(0, Nbd.CMD_READ, 8, 100, data.length, null);
                RawNbdClient.Chunk d = c.chunk();
                assertEquals(Nbd.REPLY_TYPE_OFFSET_DATA, d.type());
                assertArrayEquals(data, Arrays.copyOfRange(d.payload(), 8, d.payload().length));
                // a sparse read over an unwritten area is a hole chunk
                c.request(0, Nbd.CMD_READ, 9, 512 << 10, 128 << 10, null);
                RawNbdClient.Chunk hole = c.chunk();
                assertEquals(Nbd.REPLY_TYPE_OFFSET_HOLE, hole.type());
                assertEquals(Nbd.REPLY_FLAG_DONE, hole.flags());
                // write past EOF: payload consumed, EINVAL (as QSD sends it), connection stays
                c.request(0, Nbd.CMD_WRITE, 10, (1 << 20) - 1, 2, new byte[2]);
                RawNbdClient.Chunk eof = c.chunk();
                assertEquals(Nbd.EINVAL, eof.error());
                assertEquals("operation past EOF; From: 1048575, Len: 2, Size: 1048576", eof.message());
                // a write longer than 32 MiB: error reply, then disconnect
                c.request(0, Nbd.CMD_WRITE, 11, 0, (32 << 20) + 1, null);
                RawNbdClient.Chunk big = c.chunk();
                assertEquals(Nbd.EINVAL, big.error());
                assertEquals("len (33554433 ) is larger than max len (33554432)", big.message());
                assertTrue(c.closedByServer());
            }
            try (RawNbdClient c = new RawNbdClient(h.socket).handshake("disk", false)) {
                c.write(new byte[28]); // bad magic
                assertTrue(c.closedByServer());
            }
            try (RawNbdClient c = new RawNbdClient(h.socket).handshake("disk", false)) {
                // a truncated payload, then hang up: the server must just clean up
                c.request(0, Nbd.CMD_WRITE, 1, 0, 100000, new byte[1000]);
            }
            // the server still serves
            try (RawNbdClient c = new RawNbdClient(h.socket).handshake("disk", false)) {
                c.request(0, Nbd.CMD_READ, 1, 100, 4, null);
                RawNbdClient.Chunk s = c.chunk();
                assertEquals(0, s.error());
                assertArrayEquals(new byte[] {7, 7, 7, 7}, c.read(4));
                c.request(0, Nbd.CMD_DISC, 2, 0, 0, null);
                assertTrue(c.closedByServer());
            }
            waitFor(() -> h.server.connectionCount() == 0);
        }
    }

    @Test
    void manyConnectionsOverSeveralIoThreads() throws Exception {
        try (NbdHarness h = new NbdHarness("multi")) {
            h.node("disk", 1 << 20);
            h.addIoThread("io-a");
            h.addIoThread("io-b");
            h.start(0, 10);
            h.manager.add(new io.isthmus.engine.export.ExportOptions("nbd", "e1", "disk", true, false,
                    java.util.List.of("io-a", "io-b"), true, false, false), NbdHarness.args(PLAIN));
            RawNbdClient[] cs = new RawNbdClient[6];
            for (int i = 0; i < cs.length; i++) {
                cs[i] = new RawNbdClient(h.socket).handshake("disk", false);
            }
            for (int i = 0; i < cs.length; i++) {
                cs[i].request(0, Nbd.CMD_WRITE, i, i * 4096L, 4, new byte[] {(byte) i, 1, 2, 3});
            }
            for (int i = 0; i < cs.length; i++) {
                assertEquals(0, cs[i].chunk().error());
                cs[i].close();
            }
            assertEquals((byte) 5, h.nodes.get("disk").data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 5 * 4096L));
        }
    }

    @Test
    void inheritedListeningFd() throws Exception {
        try (NbdHarness h = new NbdHarness("fd")) {
            h.node("disk", 1 << 20);
            // a listening socket made elsewhere (as libnbd's interop test passes addr.type=fd,addr.str=N)
            java.nio.file.Path p = h.dir.resolve("inherited.sock");
            int fd = io.isthmus.bindings.Posix.socket(io.isthmus.bindings.SysSocket.AF_UNIX,
                    io.isthmus.bindings.SysSocket.SOCK_STREAM, 0);
            assertTrue(fd >= 0);
            try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
                java.lang.foreign.MemorySegment sa = a.allocate(110);
                sa.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 0, (short) 1);
                byte[] b = p.toString().getBytes();
                java.lang.foreign.MemorySegment.copy(b, 0, sa, java.lang.foreign.ValueLayout.JAVA_BYTE, 2, b.length);
                assertEquals(0, io.isthmus.bindings.Posix.bind(fd, sa, 2 + b.length + 1));
            }
            assertEquals(0, io.isthmus.bindings.Posix.listen(fd, 16));
            h.server = NbdServer.start(io.isthmus.engine.net.SocketAddress.fd(fd), h.main, 100, 10, null, null);
            h.driver.setServer(h.server);
            h.export("e1", "disk", false, PLAIN);
            try (RawNbdClient c = new RawNbdClient(p).handshake("disk", true)) {
                c.request(0, Nbd.CMD_READ, 1, 0, 512, null);
                assertEquals(Nbd.REPLY_TYPE_OFFSET_HOLE, c.chunk().type());
            }
        }
    }

    @Test
    void extendedHeadersTransmission() throws Exception {
        try (NbdHarness h = new NbdHarness("ext")) {
            MemNode n = h.node("disk", 1 << 20);
            n.addBitmap("b0", false).setDirty(128 << 10, 64 << 10);
            h.start(100, 10);
            h.export("e1", "disk", true, new NbdExportOptions(null, null,
                    java.util.List.of(new NbdExportOptions.BitmapRef(null, "b0")), false));
            try (RawNbdClient c = new RawNbdClient(h.socket)) {
                c.read(18);
                c.write(NbdHandshakeTest.flags(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES));
                c.write(NbdHandshakeTest.opt(Nbd.OPT_EXTENDED_HEADERS, new byte[0]));
                assertEquals(Nbd.REP_ACK, c.readOptionReplies());
                c.write(NbdHandshakeTest.opt(Nbd.OPT_SET_META_CONTEXT, NbdHandshakeTest.metaData("disk",
                        "base:allocation", "qemu:dirty-bitmap:b0")));
                assertEquals(Nbd.REP_ACK, c.readOptionReplies());
                c.write(NbdHandshakeTest.opt(Nbd.OPT_GO, NbdHandshakeTest.infoData("disk")));
                assertEquals(Nbd.REP_ACK, c.readOptionReplies());
                // write 4 KiB at 64 KiB (64-bit length), then read it back with DF
                byte[] data = new byte[4096];
                Arrays.fill(data, (byte) 9);
                c.write(extRequest(0, Nbd.CMD_WRITE, 1, 64 << 10, data.length, data));
                long[] hdr = extChunk(c);
                assertEquals(Nbd.REPLY_TYPE_NONE, hdr[1]);
                assertEquals(64 << 10, hdr[3], "extended replies carry the request offset");
                c.write(extRequest(Nbd.CMD_FLAG_DF, Nbd.CMD_READ, 2, 64 << 10, 4096, null));
                hdr = extChunk(c);
                assertEquals(Nbd.REPLY_TYPE_OFFSET_DATA, hdr[1]);
                assertEquals(8 + 4096, hdr[4]);
                byte[] payload = c.read((int) hdr[4]);
                assertArrayEquals(data, Arrays.copyOfRange(payload, 8, payload.length));
                // block status, all contexts: 64-bit extents, one chunk per context
                c.write(extRequest(0, Nbd.CMD_BLOCK_STATUS, 3, 0, 256 << 10, null));
                hdr = extChunk(c);
                assertEquals(Nbd.REPLY_TYPE_BLOCK_STATUS_EXT, hdr[1]);
                assertEquals(0, hdr[0] & Nbd.REPLY_FLAG_DONE);
                ByteBuffer base = ByteBuffer.wrap(c.read((int) hdr[4]));
                assertEquals(Nbd.META_ID_BASE_ALLOCATION, base.getInt());
                assertEquals(3, base.getInt(), "hole, data, hole");
                assertEquals(64 << 10, base.getLong());
                assertEquals(Nbd.STATE_HOLE | Nbd.STATE_ZERO, base.getLong());
                hdr = extChunk(c);
                assertEquals(Nbd.REPLY_FLAG_DONE, hdr[0] & Nbd.REPLY_FLAG_DONE);
                ByteBuffer bm = ByteBuffer.wrap(c.read((int) hdr[4]));
                assertEquals(Nbd.META_ID_DIRTY_BITMAP, bm.getInt());
                assertEquals(3, bm.getInt(), "clean, dirty, clean");
                assertEquals(128 << 10, bm.getLong());
                assertEquals(0, bm.getLong());
                assertEquals(64 << 10, bm.getLong());
                assertEquals(Nbd.STATE_DIRTY, bm.getLong());
                assertEquals(64 << 10, bm.getLong());
                assertEquals(0, bm.getLong());
                // block status with a payload selecting only the bitmap, REQ_ONE
                byte[] sel = ByteBuffer.allocate(12).putLong(1 << 20).putInt(Nbd.META_ID_DIRTY_BITMAP).array();
                c.write(extRequest(Nbd.CMD_FLAG_PAYLOAD_LEN | Nbd.CMD_FLAG_REQ_ONE, Nbd.CMD_BLOCK_STATUS, 4, 0,
                        sel.length, sel));
                hdr = extChunk(c);
                assertEquals(Nbd.REPLY_FLAG_DONE, hdr[0] & Nbd.REPLY_FLAG_DONE);
                ByteBuffer one = ByteBuffer.wrap(c.read((int) hdr[4]));
                assertEquals(Nbd.META_ID_DIRTY_BITMAP, one.getInt());
                assertEquals(1, one.getInt());
                // an invalid payload (unknown id): EINVAL
                byte[] bad = ByteBuffer.allocate(12).putLong(4096).putInt(77).array();
                c.write(extRequest(Nbd.CMD_FLAG_PAYLOAD_LEN, Nbd.CMD_BLOCK_STATUS, 5, 0, bad.length, bad));
                hdr = extChunk(c);
                assertEquals(Nbd.REPLY_TYPE_ERROR, hdr[1]);
                c.read((int) hdr[4]);
                // a 64-bit length trim beyond 4 GiB is past the end: EINVAL, connection stays
                c.write(extRequest(0, Nbd.CMD_TRIM, 6, 0, 5L << 30, null));
                hdr = extChunk(c);
                assertEquals(Nbd.REPLY_TYPE_ERROR, hdr[1]);
                c.read((int) hdr[4]);
                // a simple-magic request under extended headers is a protocol error
                c.request(0, Nbd.CMD_READ, 7, 0, 1, new byte[4]);
                assertTrue(c.closedByServer());
            }
        }
    }

    static byte[] extRequest(int flags, int type, long cookie, long offset, long length, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(32 + (payload == null ? 0 : payload.length));
        b.putInt(Nbd.EXTENDED_REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(cookie)
                .putLong(offset).putLong(length);
        if (payload != null) {
            b.put(payload);
        }
        return b.array();
    }

    /** Reads an extended chunk header: {flags, type, cookie, offset, length}. */
    static long[] extChunk(RawNbdClient c) throws java.io.IOException {
        ByteBuffer b = ByteBuffer.wrap(c.read(32));
        assertEquals(Nbd.EXTENDED_REPLY_MAGIC, b.getInt());
        long flags = b.getShort() & 0xFFFF;
        long type = b.getShort() & 0xFFFF;
        return new long[] {flags, type, b.getLong(), b.getLong(), b.getLong()};
    }

    static void waitFor(java.util.function.BooleanSupplier c) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("condition not met in time");
            }
            Thread.sleep(5);
        }
    }

}
