package io.isthmus.benchmarks.vhost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The userspace vhost-user-blk front end against qemu-storage-daemon's vhost-user-blk export (the reference
 * back end): about a second of 4 KiB random reads and writes on null-co with one and two queues, every status
 * OK; and on a file node, a sequential write of a pattern over the whole device read back through the front end
 * (every block compared) and checked in the file itself, plus one block changed behind its back that the
 * verifying read must notice. Integration: skipped with -Disthmus.it=false or without qemu-storage-daemon.
 * The option parser is tested without a daemon.
 */
class VhostUserBlkFrontEndTest {
    private static final Path QSD = Path.of("/usr/bin/qemu-storage-daemon");

    private static void assumeQsd() {
        assumeTrue(!"false".equals(System.getProperty("isthmus.it")), "integration tests disabled (isthmus.it=false)");
        assumeTrue(Files.isExecutable(QSD), "qemu-storage-daemon is not installed");
    }

    /** qemu-storage-daemon serving one vhost-user-blk export of {@code blockdev} with {@code queues} queues. */
    private static final class Qsd implements AutoCloseable {
        final Process p;
        final Path socket;
        final Path log;

        Qsd(Path dir, String blockdev, int queues) throws IOException, InterruptedException {
            socket = dir.resolve("vhost.sock");
            log = dir.resolve("qsd.log");
            p = new ProcessBuilder(QSD.toString(), "--blockdev", blockdev, "--export",
                    "vhost-user-blk,id=e0,node-name=disk0,addr.type=unix,addr.path=" + socket
                            + ",writable=on,num-queues=" + queues)
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!Files.exists(socket)) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("qemu-storage-daemon did not start: " + Files.readString(log));
                }
                Thread.sleep(10);
            }
        }

        @Override
        public void close() throws InterruptedException {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
    }

    private static VhostUserBlkFrontEnd.Result run(Qsd qsd, String... args) throws IOException {
        List<String> a = new ArrayList<>(List.of("--socket", qsd.socket.toString()));
        a.addAll(List.of(args));
        ByteArrayOutputStream notes = new ByteArrayOutputStream();
        VhostUserBlkFrontEnd.Result r = VhostUserBlkFrontEnd.run(VhostUserBlkFrontEnd.parse(a.toArray(String[]::new)),
                new PrintStream(notes, true, StandardCharsets.UTF_8), () -> {});
        System.err.print(notes.toString(StandardCharsets.UTF_8));
        System.err.println(r.summary());
        assertTrue(qsd.p.isAlive(), "qemu-storage-daemon exited");
        return r;
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void randomReadsAndWritesOnNullCoWithOneAndTwoQueues(@TempDir Path dir) throws Exception {
        assumeQsd();
        try (Qsd qsd = new Qsd(dir, "driver=null-co,node-name=disk0,size=1073741824", 2)) {
            for (String queues : List.of("1", "2")) {
                for (String rw : List.of("randread", "randwrite")) {
                    VhostUserBlkFrontEnd.Result r = run(qsd, "--queues", queues, "--depth", "32", "--bs", "4k",
                            "--rw", rw, "--runtime", "1");
                    assertTrue(r.ok(), r.summary());
                    assertTrue(r.ios() > 100, r.summary());
                    assertEquals(0, r.errors(), r.summary());
                    assertEquals(1L << 30, r.size(), "the capacity comes from the config space");
                    assertTrue(r.json().contains("\"ok\":true"), r.json());
                }
            }
            // the poll mode and a ring without EVENT_IDX work too
            VhostUserBlkFrontEnd.Result r = run(qsd, "--queues", "2", "--rw", "read", "--runtime", "0.3",
                    "--completion", "poll", "--no-event-idx");
            assertTrue(r.ok() && !r.eventIdx() && r.ios() > 0, r.summary());
            // more queues than the export serves: refused before any I/O
            IOException e = assertThrows(IOException.class, () -> run(qsd, "--queues", "3", "--runtime", "0.1"));
            assertTrue(e.getMessage().contains("serves 2 queue(s)"), e.getMessage());
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void dataWrittenIsReadBackAndLandsInTheFile(@TempDir Path dir) throws Exception {
        assumeQsd();
        int bs = 4096;
        int size = 8 << 20;
        int blocks = size / bs;
        Path image = dir.resolve("disk.img");
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(size));
        }
        try (Qsd qsd = new Qsd(dir, "driver=file,node-name=disk0,filename=" + image, 2)) {
            // every block written exactly once: two queues, each its half, sequentially
            String perQueue = Integer.toString(blocks / 2);
            VhostUserBlkFrontEnd.Result w = run(qsd, "--queues", "2", "--depth", "16", "--rw", "write",
                    "--runtime", "0", "--number-ios", perQueue, "--verify");
            assertTrue(w.ok(), w.summary());
            assertEquals(blocks, w.iosTotal(), w.summary());
            // read back: every block once (sequential) and at random, each compared with the pattern
            VhostUserBlkFrontEnd.Result r = run(qsd, "--queues", "2", "--depth", "16", "--rw", "read",
                    "--runtime", "0", "--number-ios", perQueue, "--verify");
            assertTrue(r.ok(), r.summary());
            assertEquals(blocks, r.iosTotal());
            assertEquals(0, r.mismatches());
            r = run(qsd, "--queues", "1", "--rw", "randread", "--runtime", "0.5", "--verify");
            assertTrue(r.ok() && r.ios() > 0 && r.mismatches() == 0, r.summary());

            // the file holds the pattern at the right offsets
            ByteBuffer file = ByteBuffer.wrap(Files.readAllBytes(image)).order(ByteOrder.LITTLE_ENDIAN);
            for (int at = 0; at < size; at += 8) {
                if (file.getLong(at) != Pattern.word(at)) {
                    throw new AssertionError("the file differs from the pattern at byte " + at);
                }
            }

            // one block changed behind the front end's back: the verifying read sees exactly that one
            try (FileChannel ch = FileChannel.open(image, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.allocate(bs), 5L * bs);
                ch.force(true);
            }
            r = run(qsd, "--queues", "1", "--depth", "8", "--rw", "read", "--runtime", "0", "--number-ios",
                    Integer.toString(blocks), "--verify");
            assertEquals(1, r.mismatches(), r.summary());
            assertTrue(!r.ok(), "a mismatch fails the run");
        }
    }

    @Test
    void options() {
        VhostUserBlkFrontEnd.Options o = VhostUserBlkFrontEnd.parse(new String[] {"--socket", "/s", "--queues=2",
            "--depth", "16", "--bs", "64k", "--rw", "randwrite", "--runtime", "2.5", "--size", "1G", "--json"});
        assertEquals(2, o.queues);
        assertEquals(16, o.depth);
        assertEquals(65536, o.bs);
        assertEquals("randwrite", o.rw);
        assertEquals(2.5, o.runtime);
        assertEquals(1L << 30, o.size);
        assertTrue(o.json);
        assertEquals(DriverQueue.Completion.INTERRUPT, o.completion);
        assertThrows(IllegalArgumentException.class, () -> VhostUserBlkFrontEnd.parse(new String[] {"--queues", "1"}));
        assertThrows(IllegalArgumentException.class,
                () -> VhostUserBlkFrontEnd.parse(new String[] {"--socket", "/s", "--rw", "trim"}));
        assertThrows(IllegalArgumentException.class,
                () -> VhostUserBlkFrontEnd.parse(new String[] {"--socket", "/s", "--bs", "100"}));
        assertThrows(IllegalArgumentException.class,
                () -> VhostUserBlkFrontEnd.parse(new String[] {"--socket", "/s", "--runtime", "0"}));
        assertEquals(128, DriverQueue.sizeFor(32));
        assertEquals(4, DriverQueue.sizeFor(1));
        assertEquals(1024, DriverQueue.sizeFor(341));
    }

    @Test
    void sequentialOffsetsSplitTheDeviceBetweenQueuesAndRandomOnesStayInside() {
        Workload q0 = new Workload("write", 4096, 8 * 4096, 0, 2, 4, false);
        Workload q1 = new Workload("write", 4096, 8 * 4096, 1, 2, 4, false);
        for (int i = 0; i < 4; i++) {
            assertEquals(i * 4096L, q0.nextOffset());
            assertEquals((4 + i) * 4096L, q1.nextOffset());
        }
        assertEquals(0, q0.nextOffset(), "wraps");
        assertTrue(q0.more(3) && !q0.more(4));
        Workload r = new Workload("randread", 4096, 1 << 20, 0, 1, -1, false);
        for (int i = 0; i < 10_000; i++) {
            long off = r.nextOffset();
            assertTrue(off >= 0 && off < (1 << 20) && off % 4096 == 0, Long.toString(off));
        }
    }
}
