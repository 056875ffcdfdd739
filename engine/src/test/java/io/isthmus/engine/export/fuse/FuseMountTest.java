package io.isthmus.engine.export.fuse;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.isthmus.bindings.Fcntl;
import io.isthmus.bindings.Posix;
import io.isthmus.engine.EngineException;
import io.isthmus.engine.loop.IoThread;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FUSE serving core through a real kernel mount: a {@link FuseTestNode} served on a temporary regular file
 * and driven with FileChannel, dd, fallocate, truncate, chmod, touch, stat and lseek. Skipped (with the reason)
 * where the machine has no /dev/fuse, fusermount3 or libfuse3, or with -Disthmus.it=false.
 */
class FuseMountTest {
    static final int MiB = 1024 * 1024;

    @TempDir
    Path dir;
    Path mnt;
    final List<IoThread> threads = new ArrayList<>();
    FuseMount mount;
    FuseServer server;
    FuseTestNode node;

    static void assumeFuse() {
        assumeTrue(!"false".equals(System.getProperty("isthmus.it")), "integration tests disabled (isthmus.it=false)");
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse is missing");
        assumeTrue(Files.isReadable(Path.of("/dev/fuse")) && Files.isWritable(Path.of("/dev/fuse")),
                "/dev/fuse is not accessible");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/fusermount3")) || Files.isExecutable(Path.of("/bin/fusermount3")),
                "fusermount3 is not installed");
        assumeTrue(FuseMount.available(), "libfuse3 is not installed");
    }

    @BeforeEach
    void setUp() throws IOException {
        assumeFuse();
        mnt = dir.resolve("image");
        Files.createFile(mnt);
    }

    void serve(boolean writable, boolean growable, int nThreads, long length) {
        node = new FuseTestNode(length, 64L * MiB);
        for (int i = 0; i < nThreads; i++) {
            threads.add(IoThread.start("fuse-test-" + i));
        }
        mount = FuseMount.mount(mnt.toString(), FuseMount.Options.of(writable, FuseMount.AllowOther.OFF));
        FuseExportConfig cfg = FuseExportConfig.of(writable, growable, mount.allowOther());
        server = FuseServer.start(mount, new FuseFile(node.access(), node, cfg), threads);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (server != null) {
            server.stop().get(10, TimeUnit.SECONDS);
        }
        if (mount != null) {
            mount.close();
        }
        for (IoThread t : threads) {
            t.close();
        }
        if (mnt != null) {
            assertFalse(mounted(mnt), "the mount is gone");
        }
    }

    static boolean mounted(Path p) throws IOException {
        String abs = p.toRealPath().toString();
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .anyMatch(l -> l.split(" ")[4].equals(abs));
    }

    static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "timed out: " + String.join(" ", cmd));
        String s = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + s);
        return s;
    }

    static int exit(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return p.exitValue();
    }

    byte[] nodeBytes(long off, int len) {
        byte[] b = new byte[len];
        MemorySegment.copy(node.data, ValueLayout.JAVA_BYTE, off, b, 0, len);
        return b;
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void readWriteThroughTheMount() throws Exception {
        serve(true, false, 1, 16L * MiB);
        assertTrue(mounted(mnt));
        assertEquals(16L * MiB, Files.size(mnt));
        byte[] w = random(3 * MiB + 123, 1);
        try (FileChannel ch = FileChannel.open(mnt, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            assertEquals(w.length, ch.write(ByteBuffer.wrap(w), 4097));
            ByteBuffer r = ByteBuffer.allocate(w.length);
            while (r.hasRemaining()) {
                assertTrue(ch.read(r, 4097 + r.position()) > 0);
            }
            assertArrayEquals(w, r.array());
            // a read across EOF is short
            ByteBuffer tail = ByteBuffer.allocate(8192);
            assertEquals(4096, ch.read(tail, 16L * MiB - 4096));
            assertEquals(-1, ch.read(ByteBuffer.allocate(10), 16L * MiB));
        }
        assertArrayEquals(w, nodeBytes(4097, w.length));
        assertTrue(node.flushes > 0, "close flushes");
    }

    @Test
    void directIoWithDd() throws Exception {
        serve(true, false, 1, 16L * MiB);
        Path src = dir.resolve("src");
        byte[] w = random(8 * MiB, 2);
        Files.write(src, w);
        run("dd", "if=" + src, "of=" + mnt, "bs=1M", "oflag=direct", "conv=notrunc", "status=none");
        assertArrayEquals(w, nodeBytes(0, w.length));
        Path out = dir.resolve("out");
        run("dd", "if=" + mnt, "of=" + out, "bs=1M", "count=8", "iflag=direct", "status=none");
        assertArrayEquals(w, Files.readAllBytes(out));
        run("dd", "if=" + mnt, "of=" + out, "bs=4k", "skip=3", "count=5", "iflag=direct", "status=none");
        assertArrayEquals(java.util.Arrays.copyOfRange(w, 3 * 4096, 8 * 4096), Files.readAllBytes(out));
    }

    @Test
    void truncatingOpenKeepsTheContents() throws Exception {
        serve(true, false, 1, 4L * MiB);
        byte[] w = random(MiB, 3);
        Files.write(mnt, w, StandardOpenOption.WRITE);
        // O_TRUNC, then a rewrite of the first 4 KiB in place (Proxmox's EFI-vars enrolment)
        try (var o = Files.newOutputStream(mnt, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            o.write(new byte[4096]);
        }
        assertEquals(4L * MiB, Files.size(mnt));
        assertEquals(4L * MiB, node.length);
        assertArrayEquals(java.util.Arrays.copyOfRange(w, 4096, MiB), nodeBytes(4096, MiB - 4096));
    }

    @Test
    void fallocatePunchAndZero() throws Exception {
        serve(true, false, 1, 8L * MiB);
        Files.write(mnt, random(8 * MiB, 4), StandardOpenOption.WRITE);
        run("fallocate", "-p", "-o", "1MiB", "-l", "1MiB", mnt.toString());
        assertArrayEquals(new byte[MiB], nodeBytes(MiB, MiB));
        assertFalse(node.allocated[MiB / FuseTestNode.CLUSTER], "punched clusters are deallocated");
        run("fallocate", "-z", "-o", "3MiB", "-l", "100000", mnt.toString());
        assertArrayEquals(new byte[100000], nodeBytes(3L * MiB, 100000));
        assertNotEquals(0, nodeBytes(3L * MiB + 100000, 1)[0] | nodeBytes(3L * MiB + 100001, 1)[0]
                | nodeBytes(3L * MiB + 100002, 1)[0]);
        assertEquals(8L * MiB, node.length);
        // collapse-range is not something the export does
        assertNotEquals(0, exit("fallocate", "-c", "-o", "0", "-l", "64KiB", mnt.toString()));
        // plain allocation past EOF needs growable
        assertNotEquals(0, exit("fallocate", "-o", "8MiB", "-l", "1MiB", mnt.toString()));
        assertEquals(8L * MiB, node.length);
    }

    @Test
    void seekDataAndHole() throws Exception {
        serve(true, false, 1, 8L * MiB);
        try (FileChannel ch = FileChannel.open(mnt, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(random(65536, 5)), 2L * MiB);
            ch.write(ByteBuffer.wrap(random(65536, 6)), 5L * MiB);
            ch.write(ByteBuffer.wrap(random(65536, 6)), 8L * MiB - 65536);
        }
        int fd = Posix.open(mnt.toString(), Fcntl.O_RDONLY | Fcntl.O_CLOEXEC, 0);
        assertTrue(fd >= 0);
        try {
            assertEquals(2L * MiB, Posix.lseek(fd, 0, FuseProtocol.SEEK_DATA));
            assertEquals(2L * MiB + 65536, Posix.lseek(fd, 2L * MiB, FuseProtocol.SEEK_HOLE));
            assertEquals(5L * MiB, Posix.lseek(fd, 2L * MiB + 65536, FuseProtocol.SEEK_DATA));
            assertEquals(0, Posix.lseek(fd, 0, FuseProtocol.SEEK_HOLE));
            assertEquals(5L * MiB + 65536, Posix.lseek(fd, 5L * MiB, FuseProtocol.SEEK_HOLE));
            assertEquals(8L * MiB - 65536, Posix.lseek(fd, 5L * MiB + 65536, FuseProtocol.SEEK_DATA));
            assertEquals(8L * MiB, Posix.lseek(fd, 8L * MiB - 100, FuseProtocol.SEEK_HOLE), "the hole at EOF");
            assertEquals(-6, Posix.lseek(fd, 8L * MiB, FuseProtocol.SEEK_HOLE)); // ENXIO
            assertEquals(-6, Posix.lseek(fd, 8L * MiB, FuseProtocol.SEEK_DATA));
        } finally {
            Posix.close(fd);
        }
    }

    @Test
    void truncateGrowsAndShrinks() throws Exception {
        serve(true, false, 1, 8L * MiB);
        run("truncate", "-s", "12M", mnt.toString());
        assertEquals(12L * MiB, node.length);
        assertEquals(12L * MiB, Files.size(mnt));
        run("truncate", "-s", "3M", mnt.toString());
        assertEquals(3L * MiB, node.length);
        assertEquals(3L * MiB, Files.size(mnt));
        assertNotEquals(0, exit("truncate", "-s", "1T", mnt.toString())); // the node refuses (EFBIG)
        assertEquals(3L * MiB, node.length);
    }

    @Test
    void writesPastEndOfNonGrowableExport() throws Exception {
        serve(true, false, 1, MiB);
        int fd = Posix.open(mnt.toString(), Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0);
        assertTrue(fd >= 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment b = a.allocate(8192);
            assertEquals(4096, Posix.pwrite(fd, b, 8192, MiB - 4096), "a short write up to EOF");
            assertEquals(-28, Posix.pwrite(fd, b, 4096, MiB), "ENOSPC at EOF, not EIO");
        } finally {
            Posix.close(fd);
        }
        assertEquals(MiB, node.length);
    }

    @Test
    void growableWritesAndFallocate() throws Exception {
        serve(true, true, 1, MiB);
        byte[] w = random(100000, 7);
        try (FileChannel ch = FileChannel.open(mnt, StandardOpenOption.WRITE)) {
            assertEquals(w.length, ch.write(ByteBuffer.wrap(w), 2L * MiB));
        }
        assertEquals(2L * MiB + w.length, node.length);
        assertEquals(2L * MiB + w.length, Files.size(mnt));
        assertArrayEquals(w, nodeBytes(2L * MiB, w.length));
        assertArrayEquals(new byte[MiB], nodeBytes(MiB, MiB));
        run("fallocate", "-o", "3MiB", "-l", "1MiB", mnt.toString());
        assertEquals(4L * MiB, node.length);
    }

    @Test
    void chmodTouchStat() throws Exception {
        serve(true, false, 1, MiB);
        assertEquals("600", run("stat", "-c", "%a", mnt.toString()).trim());
        run("chmod", "400", mnt.toString());
        assertEquals("400", run("stat", "-c", "%a", mnt.toString()).trim());
        run("chmod", "600", mnt.toString());
        assertNotEquals(0, exit("chmod", "644", mnt.toString()), "no group/other bits without allow_other");
        assertNotEquals(0, exit("chmod", "u+s", mnt.toString()), "setuid is refused");
        assertEquals("600", run("stat", "-c", "%a", mnt.toString()).trim());
        run("touch", "-m", "-d", "2020-01-02 03:04:05 UTC", mnt.toString());
        assertEquals("1577934245", run("stat", "-c", "%Y", mnt.toString()).trim());
        run("touch", mnt.toString());
        long now = System.currentTimeMillis() / 1000;
        assertTrue(Math.abs(Long.parseLong(run("stat", "-c", "%Y", mnt.toString()).trim()) - now) < 60);
        String statfs = run("stat", "-f", "-c", "%b %S", mnt.toString()).trim();
        assertEquals("2048 512", statfs, "statfs: 1 MiB in blocks of the node's alignment (at least 512)");
        assertEquals(Integer.toString(Posix.getuid()), run("stat", "-c", "%u", mnt.toString()).trim());
    }

    @Test
    void twoIoThreadsWithClonedFds() throws Exception {
        serve(true, false, 2, 32L * MiB);
        byte[] w = random(32 * MiB, 8);
        Path src = dir.resolve("src");
        Files.write(src, w);
        // several writers and readers at once, each request answered on the fd it came from
        List<Process> ps = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ps.add(new ProcessBuilder("dd", "if=" + src, "of=" + mnt, "bs=256k", "skip=" + (i * 32), "seek=" + (i * 32),
                    "count=32", "oflag=direct", "conv=notrunc", "status=none").redirectErrorStream(true).start());
        }
        for (Process p : ps) {
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), new String(p.getInputStream().readAllBytes()));
        }
        assertArrayEquals(w, nodeBytes(0, w.length));
        Path out = dir.resolve("out");
        run("dd", "if=" + mnt, "of=" + out, "bs=1M", "iflag=direct", "status=none");
        assertArrayEquals(w, Files.readAllBytes(out));
    }

    @Test
    void splitsRequestsAboveMaxTransferAndCompletesAsynchronously() throws Exception {
        serve(true, false, 1, 8L * MiB);
        node.maxTransfer = 48 * 1024;
        node.async = true;
        byte[] w = random(3 * MiB, 9);
        try (FileChannel ch = FileChannel.open(mnt, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            assertEquals(w.length, ch.write(ByteBuffer.wrap(w), 12345));
            ByteBuffer r = ByteBuffer.allocate(w.length);
            while (r.hasRemaining()) {
                assertTrue(ch.read(r, 12345 + r.position()) > 0);
            }
            assertArrayEquals(w, r.array());
        }
    }

    @Test
    void resizeBehindTheExportIsSeenAtOnce() throws Exception {
        serve(true, false, 1, MiB);
        assertEquals(MiB, Files.size(mnt)); // the kernel caches this for a second
        node.length = 2L * MiB; // a block_resize by someone else
        assertEquals(0, server.invalidateAttributes());
        assertEquals(2L * MiB, Files.size(mnt));
        try (var ch = FileChannel.open(mnt, StandardOpenOption.READ)) {
            assertEquals(1, server.openHandles());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (server.openHandles() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(10); // RELEASE is asynchronous to close(2)
        }
        assertEquals(0, server.openHandles());
    }

    @Test
    void allowOtherAutoAsRoot() throws Exception {
        assumeTrue(Posix.getuid() == 0, "allow_other without user_allow_other needs root");
        node = new FuseTestNode(MiB, MiB);
        threads.add(IoThread.start("fuse-test-auto"));
        mount = FuseMount.mount(mnt.toString(), FuseMount.Options.of(true, FuseMount.AllowOther.AUTO));
        assertTrue(mount.allowOther());
        server = FuseServer.start(mount, new FuseFile(node.access(), node,
                FuseExportConfig.of(true, false, mount.allowOther())), threads);
        String abs = mnt.toRealPath().toString();
        assertTrue(Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .anyMatch(l -> l.split(" ")[4].equals(abs) && l.contains("allow_other")));
        run("chmod", "644", mnt.toString()); // group/other bits are allowed with allow_other
        assertEquals("644", run("stat", "-c", "%a", mnt.toString()).trim());
    }

    @Test
    void aHaltedExportFailsItsCallersInsteadOfHangingThem() throws Exception {
        serve(true, false, 2, MiB);
        assertEquals(MiB, Files.size(mnt));
        server.halt("test");
        server.stop().get(10, TimeUnit.SECONDS);
        Process p = new ProcessBuilder("dd", "if=" + mnt, "of=/dev/null", "bs=4k", "count=1", "iflag=direct",
                "status=none").redirectErrorStream(true).start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS), "the caller does not hang");
        String out = new String(p.getInputStream().readAllBytes());
        assertNotEquals(0, p.exitValue());
        assertTrue(out.contains("not connected") || out.contains("connection abort"), out);
    }

    @Test
    void readOnlyExport() throws Exception {
        serve(false, false, 1, MiB);
        assertEquals("400", run("stat", "-c", "%a", mnt.toString()).trim());
        assertThrows(IOException.class, () -> Files.write(mnt, new byte[10], StandardOpenOption.WRITE));
        assertEquals(MiB, Files.readAllBytes(mnt).length);
    }

    @Test
    void mountpointErrors() throws Exception {
        Path missing = dir.resolve("missing");
        EngineException e = assertThrows(EngineException.class,
                () -> FuseMount.mount(missing.toString(), FuseMount.Options.of(true, FuseMount.AllowOther.OFF)));
        assertEquals("Failed to stat '" + missing + "': No such file or directory", e.getMessage());
        e = assertThrows(EngineException.class,
                () -> FuseMount.mount(dir.toString(), FuseMount.Options.of(true, FuseMount.AllowOther.OFF)));
        assertEquals("'" + dir + "' is not a regular file", e.getMessage());
        serve(true, false, 1, MiB);
        e = assertThrows(EngineException.class,
                () -> FuseMount.mount(mnt.toString(), FuseMount.Options.of(true, FuseMount.AllowOther.OFF)));
        assertEquals("There already is a FUSE export on '" + mnt + "'", e.getMessage());
    }
}
