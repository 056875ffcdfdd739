package io.isthmus.engine.block;

import static io.isthmus.engine.block.BlockRequest.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.isthmus.engine.EngineException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The file and host_device drivers against real peers: qemu-img compare/map, qemu-io, qemu-storage-daemon. */
@Timeout(60)
class FileNodePeersTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;
    private final BlockGraph g = new BlockGraph();
    private BlockTestSupport t;
    private final Random rnd = new Random(7);

    @BeforeEach
    void setUp() {
        Peers.assumeIntegration("qemu-img", "qemu-io", "qemu-storage-daemon");
        t = new BlockTestSupport();
    }

    @AfterEach
    void tearDown() {
        if (t != null) {
            t.close();
        }
        g.closeAll();
    }

    private Path sparse(String name, long size) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }

    private BlockNode file(Path p, String discard, Boolean direct) {
        BlockOptions o = BlockOptions.of("file", "f" + rnd.nextInt(1_000_000));
        o.filename = p.toString();
        o.discard = discard;
        o.cacheDirect = direct;
        return g.add(o);
    }

    private MemorySegment pattern(long size) {
        MemorySegment s = t.arena.allocate(size, 4096);
        byte[] b = new byte[(int) size];
        rnd.nextBytes(b);
        MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, 0, b.length);
        return s;
    }

    private static void put(RandomAccessFile ref, long off, MemorySegment data) throws Exception {
        ref.seek(off);
        ref.write(data.toArray(ValueLayout.JAVA_BYTE));
    }

    private static void zero(RandomAccessFile ref, long off, long len) throws Exception {
        ref.seek(off);
        ref.write(new byte[(int) len]);
    }

    private void assertIdentical(Path a, Path b) throws Exception {
        Peers.Result r = Peers.run("qemu-img", "compare", "-f", "raw", "-F", "raw", a.toString(), b.toString());
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("Images are identical."), r.out());
    }

    /** qemu-img map --output=json of a raw image: true where [off, off+len) is one data extent. */
    private static boolean mapSays(String json, long off, long len, boolean data) {
        Pattern p = Pattern.compile("\"start\": (\\d+), \"length\": (\\d+),[^}]*\"data\": (true|false)");
        Matcher m = p.matcher(json);
        while (m.find()) {
            long s = Long.parseLong(m.group(1));
            long l = Long.parseLong(m.group(2));
            if (s <= off && off + len <= s + l) {
                return Boolean.parseBoolean(m.group(3)) == data;
            }
        }
        return false;
    }

    @Test
    void dataDiscardsAndZeroWritesMatchQemuImgAndHolesStayHoles() throws Exception {
        Path img = sparse("img", 8 * MIB);
        Path ref = sparse("ref", 8 * MIB);
        BlockNode n = file(img, "unmap", null);
        assertEquals(8 * MIB, n.length());
        try (RandomAccessFile r = new RandomAccessFile(ref.toFile(), "rw")) {
            MemorySegment a = pattern(256 * 1024);
            assertEquals(0, t.write(n, MIB, a, 0));
            put(r, MIB, a);
            MemorySegment b = pattern(1000);
            assertEquals(0, t.write(n, 3 * MIB + 123, b, FUA));
            put(r, 3 * MIB + 123, b);
            // a two-element vector
            MemorySegment c1 = pattern(4096), c2 = pattern(8192);
            t.req.op = WRITE;
            t.req.flags = 0;
            t.req.offset = 4 * MIB;
            t.req.length = 4096 + 8192;
            t.req.setIov(0, c1.address(), 4096);
            t.req.setIov(1, c2.address(), 8192);
            t.req.iovCount = 2;
            assertEquals(0, t.run(n));
            put(r, 4 * MIB, c1);
            put(r, 4 * MIB + 4096, c2);
            // discard inside the first extent: punched
            assertEquals(0, t.op(n, DISCARD, MIB + 64 * 1024, 64 * 1024, 0));
            zero(r, MIB + 64 * 1024, 64 * 1024);
            // data, then zeroes with unmap: a hole again
            MemorySegment d = pattern(MIB);
            assertEquals(0, t.write(n, 5 * MIB, d, 0));
            assertEquals(0, t.op(n, WRITE_ZEROES, 5 * MIB, MIB, MAY_UNMAP));
            // data, then zeroes without unmap: zero range
            assertEquals(0, t.write(n, 6 * MIB, d, 0));
            assertEquals(0, t.op(n, WRITE_ZEROES, 6 * MIB, 4096 * 3, 0));
            put(r, 6 * MIB, d);
            zero(r, 6 * MIB, 4096 * 3);
            assertEquals(0, t.op(n, FLUSH, 0, 0, 0));
        }
        assertIdentical(img, ref);

        MemorySegment back = t.buffer(256 * 1024, 0);
        assertEquals(0, t.read(n, MIB, back));
        byte[] expect = Files.readAllBytes(ref);
        assertArrayEquals(java.util.Arrays.copyOfRange(expect, (int) MIB, (int) MIB + 256 * 1024),
                back.toArray(ValueLayout.JAVA_BYTE));

        String map = Peers.run("qemu-img", "map", "--output=json", "-f", "raw", img.toString()).out();
        assertTrue(mapSays(map, 0, MIB, false), map);
        assertTrue(mapSays(map, MIB + 64 * 1024, 64 * 1024, false), "discard punched a hole: " + map);
        assertTrue(mapSays(map, 5 * MIB, MIB, false), "write-zeroes with unmap left a hole: " + map);
        assertTrue(mapSays(map, MIB, 64 * 1024, true), map);

        // block status agrees with qemu-img map
        assertArrayEquals(new long[] {MIB, STATUS_ZERO | STATUS_ALLOCATED, 1}, t.status(n, 0, 8 * MIB));
        long[] s = t.status(n, MIB, 8 * MIB);
        assertEquals(STATUS_DATA | STATUS_ALLOCATED, s[1]);
        assertEquals(64 * 1024, s[0]);
        s = t.status(n, 5 * MIB, MIB);
        assertEquals(STATUS_ZERO | STATUS_ALLOCATED, s[1]);
        assertEquals(MIB, s[0]);
        s = t.status(n, 7 * MIB, 8 * MIB);
        assertEquals(MIB, s[0], "clamped to the end of the node");
    }

    @Test
    void oddSizedFileReadsZeroesPastEofAndGrowsOnWrite() throws Exception {
        Path img = sparse("odd", 1000);
        BlockNode n = file(img, null, null);
        assertEquals(1024, n.length());
        MemorySegment buf = t.buffer(1024, 9);
        assertEquals(0, t.read(n, 0, buf));
        assertEquals(0, buf.get(ValueLayout.JAVA_BYTE, 1020));
        assertEquals(0, t.write(n, 1000, t.buffer(24, 5), 0));
        assertEquals(1024, Files.size(img));
    }

    @Test
    void directIoAlignedAndMisalignedRequests() throws Exception {
        Path img = sparse("direct", 4 * MIB);
        Path ref = sparse("ref", 4 * MIB);
        BlockNode n = file(img, "unmap", true);
        int align = n.requestAlignment();
        assertTrue(align >= 512 && Integer.bitCount(align) == 1, "probed alignment " + align);
        try (RandomAccessFile r = new RandomAccessFile(ref.toFile(), "rw")) {
            MemorySegment a = pattern(64 * 1024);
            assertEquals(0, t.write(n, 0, a, 0));
            put(r, 0, a);
            MemorySegment b = pattern(3000); // misaligned offset, length, and buffer address
            MemorySegment odd = t.arena.allocate(3001, 4096).asSlice(1, 3000);
            odd.copyFrom(b);
            assertEquals(0, t.write(n, 100_001, odd, FUA));
            put(r, 100_001, b);
            MemorySegment tail = pattern(700); // misaligned, up to the end of the image
            assertEquals(0, t.write(n, 4 * MIB - 700, tail, 0));
            put(r, 4 * MIB - 700, tail);

            MemorySegment back = t.arena.allocate(3001, 4096).asSlice(1, 3000);
            assertEquals(0, t.read(n, 100_001, back));
            assertArrayEquals(b.toArray(ValueLayout.JAVA_BYTE), back.toArray(ValueLayout.JAVA_BYTE));
        }
        assertIdentical(img, ref);
    }

    @Test
    void isthmusLocksRefuseQemuTools() throws Exception {
        Path img = sparse("locked", MIB);
        BlockNode n = file(img, null, null);
        // like a guest device: takes write and shares no writer
        BlockUser u = n.attach("an unnamed block device", BlockPerm.CONSISTENT_READ | BlockPerm.WRITE,
                BlockPerm.CONSISTENT_READ | BlockPerm.WRITE_UNCHANGED);
        Peers.Result io = Peers.run("qemu-io", "-f", "raw", "-c", "write 0 512", img.toString());
        assertTrue(io.out().contains("Failed to get \"write\" lock"), io.out());
        u.detach();
        assertEquals(0, Peers.run("qemu-io", "-f", "raw", "-c", "write 0 512", img.toString()).exit());
        // like a writable NBD export: shares everything but resize
        u = n.attach("an unnamed block device", BlockPerm.CONSISTENT_READ | BlockPerm.WRITE,
                BlockPerm.ALL & ~BlockPerm.RESIZE);
        Peers.Result rs = Peers.run("qemu-img", "resize", "-f", "raw", img.toString(), "2M");
        assertTrue(rs.out().contains("Failed to get \"resize\" lock"), rs.out());
        assertEquals(0, Peers.run("qemu-img", "info", "-f", "raw", img.toString()).exit());
        u.detach();
        assertEquals(0, Peers.run("qemu-img", "resize", "-f", "raw", img.toString(), "2M").exit());
    }

    @Test
    void qemuLocksRefuseIsthmus() throws Exception {
        Path img = dir.resolve("held.qcow2");
        assertEquals(0, Peers.run("qemu-img", "create", "-q", "-f", "qcow2", img.toString(), "1M").exit());
        Process qsd = Peers.startQsd(dir, "--blockdev",
                "qcow2,node-name=q,file.driver=file,file.filename=" + img);
        try {
            BlockNode n = file(img, null, null);
            EngineException e = assertThrows(EngineException.class,
                    () -> n.attach("an unnamed block device", BlockPerm.CONSISTENT_READ | BlockPerm.WRITE,
                            BlockPerm.ALL & ~BlockPerm.RESIZE));
            assertEquals("Failed to get \"write\" lock", e.getMessage());
            e = assertThrows(EngineException.class, () -> n.attach("an unnamed block device",
                    BlockPerm.CONSISTENT_READ, BlockPerm.ALL & ~BlockPerm.RESIZE));
            assertEquals("Failed to get shared \"resize\" lock", e.getMessage());
            assertEquals(0, n.cumulativePerm(), "nothing held after a refusal");
            // reading while sharing everything is fine, and locking=off skips the locks
            n.attach("an unnamed block device", BlockPerm.CONSISTENT_READ, BlockPerm.ALL).detach();
            BlockOptions o = BlockOptions.of("file", "nolock");
            o.filename = img.toString();
            o.locking = "off";
            g.add(o).attach("x", BlockPerm.CONSISTENT_READ | BlockPerm.WRITE, BlockPerm.ALL).detach();
        } finally {
            Peers.stop(qsd);
        }
    }

    @Test
    void openErrorsUseQemusTexts() throws Exception {
        assertEquals("Could not open '/nonexistent/x': No such file or directory",
                assertThrows(EngineException.class, () -> file(Path.of("/nonexistent/x"), null, null)).getMessage());
        BlockOptions d = BlockOptions.of("file", "d");
        d.filename = dir.toString();
        d.readOnly = true;
        assertEquals("'file' driver requires '" + dir + "' to be a regular file",
                assertThrows(EngineException.class, () -> g.add(d)).getMessage());
        BlockOptions h = BlockOptions.of("host_device", "h");
        h.filename = sparse("plain", 4096).toString();
        assertEquals("'host_device' driver requires '" + h.filename + "' to be either a character or block device",
                assertThrows(EngineException.class, () -> g.add(h)).getMessage());
        BlockOptions e = BlockOptions.of("file", "e");
        e.filename = "";
        assertEquals("The 'file' block driver requires a file name",
                assertThrows(EngineException.class, () -> g.add(e)).getMessage());
        BlockOptions nat = BlockOptions.of("file", "nat");
        nat.filename = h.filename;
        nat.aio = "native";
        assertEquals("aio=native was specified, but it requires cache.direct=on, which was not specified.",
                assertThrows(EngineException.class, () -> g.add(nat)).getMessage());
        assertTrue(g.nodes().isEmpty());
    }

    @Test
    void resizeGrowsAndShrinksAFileAndItsBitmaps() throws Exception {
        Path img = sparse("rs", MIB);
        BlockNode n = file(img, null, null);
        BlockOptions r = BlockOptions.of("raw", "r");
        r.fileRef = n.nodeName();
        BlockNode raw = g.add(r);
        DirtyBitmap b = g.addBitmap(raw, "b", null, false, false);
        g.resize(raw, 3 * MIB);
        assertEquals(3 * MIB, Files.size(img));
        assertEquals(3 * MIB, raw.length());
        assertEquals(3 * MIB, b.length());
        g.resize(n, 1000);
        assertEquals(1024, raw.length());
    }

    @Test
    void hostDeviceOnALoopDevice() throws Exception {
        Peers.assumeIntegration("losetup");
        Path backing = sparse("loop.img", 4 * MIB);
        Peers.Result lo = Peers.run("losetup", "-f", "--show", backing.toString());
        assumeTrue(lo.exit() == 0, "losetup does not work here: " + lo.out());
        String dev = lo.out().trim();
        try {
            BlockOptions o = BlockOptions.of("host_device", "hd");
            o.filename = dev;
            o.discard = "unmap";
            BlockNode n = g.add(o);
            assertEquals(4 * MIB, n.length());
            MemorySegment p = pattern(64 * 1024);
            assertEquals(0, t.write(n, MIB, p, FUA));
            MemorySegment back = t.buffer(64 * 1024, 0);
            assertEquals(0, t.read(n, MIB, back));
            assertArrayEquals(p.toArray(ValueLayout.JAVA_BYTE), back.toArray(ValueLayout.JAVA_BYTE));
            assertEquals(0, t.op(n, WRITE_ZEROES, MIB, 4096, MAY_UNMAP));
            assertEquals(0, t.op(n, DISCARD, 2 * MIB, MIB, 0));
            assertEquals(0, t.read(n, MIB, back));
            assertEquals(0, back.get(ValueLayout.JAVA_BYTE, 100));
            assertEquals("Cannot grow device files",
                    assertThrows(EngineException.class, () -> g.resize(n, 8 * MIB)).getMessage());
            g.closeAll();
        } finally {
            Peers.run("losetup", "-d", dev);
        }
    }
}
