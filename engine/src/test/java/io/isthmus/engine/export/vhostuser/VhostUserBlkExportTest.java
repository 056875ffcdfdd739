package io.isthmus.engine.export.vhostuser;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysSocket;
import io.isthmus.engine.EngineException;
import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.block.BlockOptions;
import io.isthmus.engine.block.BlockPerm;
import io.isthmus.engine.export.BlockGraphNodes;
import io.isthmus.engine.export.ExportArgs;
import io.isthmus.engine.export.ExportManager;
import io.isthmus.engine.loop.IoThread;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The vhost-user-blk driver's own checks (QEMU's texts) and the session's life on the socket with
 * {@link MiniFrontEnd}: garbage ends only that session and the export listens again; a front end that never
 * sets up is dropped after the set-up timeout; one front end at a time; the permissions taken.
 */
@Timeout(60)
class VhostUserBlkExportTest {
    @TempDir
    Path dir;
    private BlockGraph graph;
    private IoThread main;
    private ExportManager manager;

    @BeforeEach
    void setUp() throws Exception {
        Path image = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        graph = new BlockGraph();
        BlockOptions o = BlockOptions.of("file", "disk");
        o.filename = image.toString();
        graph.add(o);
        main = IoThread.start("vhost-test");
        manager = new ExportManager(BlockGraphNodes.resolver(graph), n -> null, () -> main, Runnable::run);
        manager.registerDriver(new VhostUserBlkExportDriver());
    }

    @AfterEach
    void tearDown() {
        manager.closeAll(null);
        main.close();
        graph.closeAll();
    }

    private Map<String, Object> members(String id) {
        Map<String, Object> m = new HashMap<>();
        m.put("type", "vhost-user-blk");
        m.put("id", id);
        m.put("node-name", "disk");
        m.put("writable", true);
        m.put("addr", Map.of("type", "unix", "path", dir.resolve(id + ".sock").toString()));
        return m;
    }

    private void refused(String text, Map<String, Object> m) {
        assertEquals(text, assertThrows(EngineException.class, () -> manager.add(ExportArgs.of(m))).getMessage());
    }

    @Test
    void optionsAreCheckedWithQemusTexts() throws Exception {
        Map<String, Object> m = members("e9");
        m.put("logical-block-size", 100L);
        refused("Property e9.logical-block-size doesn't take value 100 (minimum: 512, maximum: 2097152)", m);
        m.put("logical-block-size", 4L << 20);
        refused("Property e9.logical-block-size doesn't take value 4194304 (minimum: 512, maximum: 2097152)", m);
        m.put("logical-block-size", 1536L);
        refused("Property e9.logical-block-size doesn't take value '1536', it's not a power of 2", m);
        m.put("logical-block-size", 4096L);
        m.put("num-queues", 0L);
        refused("num-queues must be greater than 0", m);
        m.put("num-queues", 257L);
        refused("num-queues must be at most 256", m);
        m.put("num-queues", 2L);
        m.put("addr", Map.of("type", "inet", "host", "127.0.0.1", "port", "0"));
        refused("Only socket address types 'unix' and 'fd' are supported", m);
        assertTrue(manager.list().isEmpty());
        assertEquals(0, graph.find("disk").cumulativePerm(), "refused adds leave the node alone");
        manager.add(ExportArgs.of(members("ok")));
        assertEquals(BlockPerm.CONSISTENT_READ | BlockPerm.WRITE, graph.find("disk").cumulativePerm());
    }

    @Test
    void garbageEndsTheSessionAndTheExportListensAgain() throws Exception {
        manager.add(ExportArgs.of(members("g")));
        Path sock = dir.resolve("g.sock");
        int fd = Posix.socket(SysSocket.AF_UNIX, SysSocket.SOCK_STREAM | SysSocket.SOCK_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = a.allocate(110);
            sa.set(ValueLayout.JAVA_SHORT, 0, (short) SysSocket.AF_UNIX);
            byte[] p = sock.toString().getBytes(StandardCharsets.UTF_8);
            MemorySegment.copy(p, 0, sa, ValueLayout.JAVA_BYTE, 2, p.length);
            assertEquals(0, Posix.connect(fd, sa, 2 + p.length + 1));
            MemorySegment junk = a.allocate(12);
            junk.set(VhostUser.LE_INT, 0, 9999); // an unknown request
            junk.set(VhostUser.LE_INT, 4, VhostUser.VERSION);
            Posix.send(fd, junk, 12, SysSocket.MSG_NOSIGNAL);
            MemorySegment b = a.allocate(16);
            assertEquals(0, Posix.recv(fd, b, 16, 0), "the back end closes the session");
        } finally {
            Posix.close(fd);
        }
        try (MiniFrontEnd fe = new MiniFrontEnd(sock)) {
            fe.setUp();
            fe.write(4096, new byte[512]);
            assertEquals(1 << 20, fe.size());
        }
    }

    @Test
    void aFrontEndThatNeverSetsUpIsDropped() throws Exception {
        assertEquals(10, VhostUserSession.SETUP_TIMEOUT_SECONDS);
        manager.add(ExportArgs.of(members("t")));
        Path sock = dir.resolve("t.sock");
        try (MiniFrontEnd idle = new MiniFrontEnd(sock)) {
            assertTrue(idle.dropped(15_000), "dropped after the set-up timeout");
        }
        try (MiniFrontEnd fe = new MiniFrontEnd(sock)) {
            fe.setUp();
            byte[] data = new byte[4096];
            java.util.Arrays.fill(data, (byte) 7);
            fe.write(0, data);
            assertArrayEquals(data, fe.read(0, 4096));
        }
    }

    @Test
    void oneFrontEndAtATime() throws Exception {
        manager.add(ExportArgs.of(members("o")));
        Path sock = dir.resolve("o.sock");
        try (MiniFrontEnd first = new MiniFrontEnd(sock); MiniFrontEnd second = new MiniFrontEnd(sock)) {
            first.setUp();
            byte[] data = "first".getBytes(StandardCharsets.US_ASCII);
            byte[] sector = java.util.Arrays.copyOf(data, 512);
            first.write(512, sector);
            assertTrue(!second.dropped(200), "the second waits in the backlog");
            first.close();
            second.setUp(); // served once the first disconnected
            assertArrayEquals(sector, second.read(512, 512));
        }
        assertTrue(Files.exists(dir.resolve("o.sock")));
    }

    @Test
    void aRunningQueueMovesToANewMemoryTable() throws Exception {
        manager.add(ExportArgs.of(members("m")));
        try (MiniFrontEnd fe = new MiniFrontEnd(dir.resolve("m.sock"))) {
            fe.setUp();
            byte[] a = new byte[512];
            java.util.Arrays.fill(a, (byte) 1);
            fe.write(0, a);
            fe.resendMemTable();
            byte[] b = new byte[512];
            java.util.Arrays.fill(b, (byte) 2);
            fe.write(512, b);
            assertArrayEquals(a, fe.read(0, 512), "served from the new mapping");
            assertArrayEquals(b, fe.read(512, 512));
        }
    }

    @Test
    void aRestartedKickAndAStoppedQueueKeepTheirPlace() throws Exception {
        manager.add(ExportArgs.of(members("k")));
        try (MiniFrontEnd fe = new MiniFrontEnd(dir.resolve("k.sock"))) {
            fe.setUp();
            byte[] a = new byte[512];
            java.util.Arrays.fill(a, (byte) 3);
            fe.write(0, a);
            fe.replaceKick(); // stop and restart on the new eventfd, from the base the stop reported
            assertArrayEquals(a, fe.read(0, 512));
            assertEquals(2, fe.stopQueue(), "GET_VRING_BASE after ENABLE 0: the next avail index");
        }
    }

    @Test
    void writeZeroesAndDiscardReadBackAsZeroes() throws Exception {
        manager.add(ExportArgs.of(members("z")));
        try (MiniFrontEnd fe = new MiniFrontEnd(dir.resolve("z.sock"))) {
            fe.setUp();
            byte[] ones = new byte[8192];
            java.util.Arrays.fill(ones, (byte) 0x55);
            fe.write(65536, ones);
            fe.zeroOrDiscard(VirtioBlk.T_WRITE_ZEROES, 65536, 4096, false);
            fe.zeroOrDiscard(VirtioBlk.T_WRITE_ZEROES, 65536 + 4096, 4096, true);
            assertArrayEquals(new byte[8192], fe.read(65536, 8192));
            fe.write(131072, ones);
            fe.zeroOrDiscard(VirtioBlk.T_DISCARD, 131072, 8192, false); // node discard=ignore: accepted, data kept
            assertArrayEquals(ones, fe.read(131072, 8192));
            assertThrows(java.io.IOException.class,
                    () -> fe.zeroOrDiscard(VirtioBlk.T_DISCARD, 131072, 8192, true), "UNMAP on a discard: UNSUPP");
        }
    }
}
