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
                    java.util.List.of("io-a", "io-b"), true, false, false, PLAIN));
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
            h.server = NbdServer.start(NbdAddress.fd(fd), h.main, 100, 10, null, null);
            h.driver.setServer(h.server);
            h.export("e1", "disk", false, PLAIN);
            try (RawNbdClient c = new RawNbdClient(p).handshake("disk", true)) {
                c.request(0, Nbd.CMD_READ, 1, 0, 512, null);
                assertEquals(Nbd.REPLY_TYPE_OFFSET_HOLE, c.chunk().type());
            }
        }
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
