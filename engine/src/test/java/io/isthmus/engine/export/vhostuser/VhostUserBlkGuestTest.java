package io.isthmus.engine.export.vhostuser;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.block.BlockGraph;
import io.isthmus.engine.block.BlockOptions;
import io.isthmus.engine.export.BlockExport;
import io.isthmus.engine.export.BlockGraphNodes;
import io.isthmus.engine.export.ExportArgs;
import io.isthmus.engine.export.ExportManager;
import io.isthmus.engine.guest.TestGuest;
import io.isthmus.engine.loop.IoThread;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The vhost-user-blk export with a Linux guest ({@link TestGuest}: QEMU under TCG with {@code vhost-user-blk-pci}
 * on the export's socket): what the guest's virtio-blk driver sees (capacity, block size, queues, serial, discard
 * and write-zeroes limits), fio with crc32c verification on one queue, on two queues spread over two IoThreads
 * and on four queues spread round-robin over the same two (one fio job pinned to each vCPU, so every queue
 * serves requests), split and packed rings, discard and write-zeroes (fio's falloc engine) reading back as
 * zeroes, a read-only export refusing writes, block_resize reaching the guest's sysfs, and the image on the host
 * holding what the guest wrote. Engine level: a block graph with a file node, the export manager, the driver,
 * real IoThreads.
 */
@Timeout(600)
class VhostUserBlkGuestTest {
    private static final int MIB = 1 << 20;
    private static final long SIZE = 64L * MIB;
    /** 4 KiB random reads and writes with crc32c verification, 16 MiB per job, and the guest's uptime at the start. */
    static final String FIO = "echo fio-start-uptime=$(cut -d' ' -f1 /proc/uptime)\n"
            + "fio --name=randrw --filename=/dev/vda --ioengine=libaio --direct=1 --rw=randrw "
            + "--bs=4k --iodepth=16 --size=16M --runtime=20 --verify=crc32c --do_verify=1 --verify_fatal=1 "
            + "--randrepeat=0 --eta=never --output-format=terse --terse-version=3 --numjobs=NJOBS --offset_increment=16M "
            + "--group_reporting "
            + ">/tmp/fio.out 2>&1 || { cat /tmp/fio.out; exit 1; }\n"
            + "cut -d';' -f1-8 /tmp/fio.out\n";

    @TempDir
    Path dir;
    private BlockGraph graph;
    private IoThread main;
    private IoThread ioA;
    private IoThread ioB;
    private ExportManager manager;
    private Path image;
    private final LinkedBlockingQueue<String> deleted = new LinkedBlockingQueue<>();

    @BeforeEach
    void setUp() throws Exception {
        TestGuest.assumeAvailable();
        image = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(SIZE);
        }
        graph = new BlockGraph();
        BlockOptions o = BlockOptions.of("file", "disk");
        o.filename = image.toString();
        o.discard = "unmap"; // QEMU's default (ignore) drops discards; with unmap they punch holes
        graph.add(o);
        main = IoThread.start("vhost-main");
        ioA = IoThread.start("vhost-io-a");
        ioB = IoThread.start("vhost-io-b");
        Map<String, IoThread> threads = Map.of("io-a", ioA, "io-b", ioB);
        manager = new ExportManager(BlockGraphNodes.resolver(graph), threads::get, () -> main, Runnable::run);
        manager.setListener(deleted::add);
        manager.registerDriver(new VhostUserBlkExportDriver());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (manager != null) {
            manager.closeAll(null);
            main.close();
            ioA.close();
            ioB.close();
            graph.closeAll();
        }
    }

    private Path export(String id, boolean writable, int queues, Object iothread, Integer blockSize)
            throws Exception {
        Path sock = dir.resolve(id + ".sock");
        Map<String, Object> m = new HashMap<>();
        m.put("type", "vhost-user-blk");
        m.put("id", id);
        m.put("node-name", "disk");
        m.put("writable", writable);
        m.put("addr", Map.of("type", "unix", "path", sock.toString()));
        m.put("num-queues", (long) queues);
        if (blockSize != null) {
            m.put("logical-block-size", (long) blockSize);
        }
        if (iothread != null) {
            m.put("iothread", iothread);
        }
        manager.add(ExportArgs.of(m));
        return sock;
    }

    private static String check(TestGuest.Result r) {
        return r.console();
    }

    private static void report(String what, TestGuest.Result r) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("fio-start-uptime=([0-9.]+)").matcher(r.console());
        System.out.println(what + ": boot to exit " + r.elapsed().toMillis() + " ms"
                + (m.find() ? ", guest uptime at fio start " + m.group(1) + " s" : ""));
    }

    @Test
    void oneQueueGuestSeesTheDiskRunsFioAndWritesReachTheHost() throws Exception {
        byte[] fromGuest = new byte[MIB];
        new Random(7).nextBytes(fromGuest);
        Path sock = export("v1", true, 1, null, null);
        TestGuest.Result r = TestGuest.builder().vhostUser(sock, 1)
                .file("isthmus/from-guest.bin", fromGuest)
                .script("set -e\n"
                        + "echo size=$(cat /sys/block/vda/size) lbs=$(cat /sys/block/vda/queue/logical_block_size)"
                        + " queues=$(ls /sys/block/vda/mq | wc -l) serial=$(cat /sys/block/vda/serial)"
                        + " discard=$(cat /sys/block/vda/queue/discard_max_bytes)"
                        + " wzeroes=$(cat /sys/block/vda/queue/write_zeroes_max_bytes)"
                        + " ro=$(cat /sys/block/vda/ro)\n"
                        + FIO.replace("NJOBS", "1")
                        + "dd if=/isthmus/from-guest.bin of=/dev/vda bs=64k seek=768 oflag=direct 2>/dev/null\n"
                        + "dd if=/dev/vda of=/tmp/back.bin bs=64k skip=768 count=16 iflag=direct 2>/dev/null\n"
                        + "cmp /tmp/back.bin /isthmus/from-guest.bin\n"
                        + "dd if=/dev/zero of=/tmp/zeros.bin bs=64k count=16 2>/dev/null\n"
                        + "dd if=/isthmus/from-guest.bin of=/dev/vda bs=64k seek=640 oflag=direct 2>/dev/null\n"
                        + "blkdiscard -o 41943040 -l 1048576 /dev/vda\n"
                        + "dd if=/dev/vda of=/tmp/d.bin bs=64k skip=640 count=16 iflag=direct 2>/dev/null\n"
                        + "cmp /tmp/d.bin /tmp/zeros.bin && echo DISCARD-READS-ZEROES\n"
                        + "dd if=/isthmus/from-guest.bin of=/dev/vda bs=64k seek=704 oflag=direct 2>/dev/null\n"
                        // busybox's blkdiscard has no -z; fio's falloc engine trims with fallocate(PUNCH_HOLE |
                        // KEEP_SIZE), which on a block device is a write-zeroes request with no fallback; the
                        // discard count in /sys/block/vda/stat (field 12) must not move
                        + "read -r _ _ _ _ _ _ _ _ _ _ _ d0 _ < /sys/block/vda/stat\n"
                        + "fio --name=wz --filename=/dev/vda --ioengine=falloc --rw=trim --bs=1M --offset=46137344"
                        + " --size=1M --eta=never >/tmp/wz.out 2>&1 || { cat /tmp/wz.out; exit 1; }\n"
                        + "read -r _ _ _ _ _ _ _ _ _ _ _ d1 _ < /sys/block/vda/stat\n"
                        + "echo discards-around-write-zeroes=$d0,$d1\n"
                        + "dd if=/dev/vda of=/tmp/z.bin bs=64k skip=704 count=16 iflag=direct 2>/dev/null\n"
                        + "cmp /tmp/z.bin /tmp/zeros.bin && echo WRITE-ZEROES-READ-ZEROES\n"
                        + "echo GUEST-DONE\n")
                .run(dir);
        report("1 queue", r);
        assertEquals(0, r.exitStatus(), check(r));
        assertTrue(r.console().contains("size=131072 lbs=512 queues=1 serial=vhost_user_blk discard=16777216"
                + " wzeroes=16777216 ro=0"), r.console());
        assertTrue(r.console().contains("3;fio-"), r.console());
        assertTrue(r.console().contains("DISCARD-READS-ZEROES"), r.console());
        assertTrue(r.console().contains("WRITE-ZEROES-READ-ZEROES"), r.console());
        java.util.regex.Matcher d = java.util.regex.Pattern.compile("discards-around-write-zeroes=(\\d+),(\\d+)")
                .matcher(r.console());
        assertTrue(d.find() && Long.parseLong(d.group(1)) > 0 && d.group(1).equals(d.group(2)),
                "the blkdiscard above counted, the write-zeroes did not go as a discard: " + r.console());
        manager.closeAll(null);
        byte[] back = new byte[MIB];
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
            f.seek(48L * MIB);
            f.readFully(back);
        }
        assertArrayEquals(fromGuest, back, "what the guest wrote at 48 MiB is on the host");
    }

    @Test
    void twoQueuesOnTwoIoThreadsRunFio() throws Exception {
        Path sock = export("v2", true, 2, List.of("io-a", "io-b"), null);
        TestGuest.Result r = TestGuest.builder().vhostUser(sock, 2).cpus(2)
                .script("set -e\n"
                        + "echo size=$(cat /sys/block/vda/size) queues=$(ls /sys/block/vda/mq | wc -l)\n"
                        + FIO.replace("NJOBS", "2"))
                .run(dir);
        report("2 queues", r);
        assertEquals(0, r.exitStatus(), check(r));
        assertTrue(r.console().contains("size=131072 queues=2"), r.console());
        assertTrue(r.console().contains("3;fio-"), r.console());
        VhostUserBlkExport e = (VhostUserBlkExport) manager.find("v2");
        assertEquals(ioA, e.queueThread(0));
        assertEquals(ioB, e.queueThread(1));
        System.out.println("2 queues: requests served per queue " + e.requestsServed(0) + ", " + e.requestsServed(1));
        assertTrue(e.requestsServed(0) > 100 && e.requestsServed(1) > 100, "both queues served requests");
    }

    @Test
    void fourQueuesOnTwoIoThreadsRunFioOnEveryQueue() throws Exception {
        Path sock = export("v4", true, 4, List.of("io-a", "io-b"), null);
        // one job pinned to each vCPU (blk-mq maps CPU n to queue n), 4 MiB each on its own 16 MiB stretch
        TestGuest.Result r = TestGuest.builder().vhostUser(sock, 4).cpus(4)
                .script("set -e\n"
                        + "echo size=$(cat /sys/block/vda/size) queues=$(ls /sys/block/vda/mq | wc -l)\n"
                        + FIO.replace("NJOBS", "4").replace("--size=16M", "--size=4M")
                                .replace("--group_reporting", "--group_reporting --cpus_allowed=0-3"
                                        + " --cpus_allowed_policy=split"))
                .run(dir);
        report("4 queues", r);
        assertEquals(0, r.exitStatus(), check(r));
        assertTrue(r.console().contains("size=131072 queues=4"), r.console());
        assertTrue(r.console().contains("3;fio-"), r.console());
        VhostUserBlkExport e = (VhostUserBlkExport) manager.find("v4");
        assertEquals(List.of(ioA, ioB, ioA, ioB),
                List.of(e.queueThread(0), e.queueThread(1), e.queueThread(2), e.queueThread(3)));
        System.out.println("4 queues: requests served per queue " + e.requestsServed(0) + ", " + e.requestsServed(1)
                + ", " + e.requestsServed(2) + ", " + e.requestsServed(3));
        for (int q = 0; q < 4; q++) {
            assertTrue(e.requestsServed(q) > 100, "queue " + q + " served requests");
        }
    }

    @Test
    void packedRingRunsFio() throws Exception {
        Path sock = export("vp", true, 1, null, null);
        TestGuest.Result r = TestGuest.builder().vhostUser(sock, 1, "", "packed=on")
                .script("set -e\n" + FIO.replace("NJOBS", "1"))
                .run(dir);
        report("packed ring", r);
        assertEquals(0, r.exitStatus(), check(r));
        assertTrue(r.console().contains("3;fio-"), r.console());
    }

    @Test
    void readOnlyExportRefusesWritesAndBlockSizeIsSeen() throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.seek(4096);
            f.write("host data".getBytes());
        }
        Path sock = export("vr", false, 1, null, 4096);
        TestGuest.Result r = TestGuest.builder().vhostUser(sock, 1)
                .script("echo ro=$(cat /sys/block/vda/ro) lbs=$(cat /sys/block/vda/queue/logical_block_size)\n"
                        + "dd if=/dev/vda bs=4096 skip=1 count=1 iflag=direct 2>/dev/null | head -c 9; echo\n"
                        + "if dd if=/dev/zero of=/dev/vda bs=4096 count=1 oflag=direct 2>/tmp/dd.err; then"
                        + " echo WRITE-ACCEPTED; exit 1; fi\n"
                        + "echo WRITE-REFUSED\n")
                .run(dir);
        report("read-only", r);
        assertEquals(0, r.exitStatus(), check(r));
        assertTrue(r.console().contains("ro=1 lbs=4096"), r.console());
        assertTrue(r.console().contains("host data"), r.console());
        assertTrue(r.console().contains("WRITE-REFUSED"), r.console());
    }

    @Test
    void blockResizeReachesTheGuest() throws Exception {
        Path sock = export("vz", true, 1, null, null);
        try (TestGuest.Running g = TestGuest.builder().vhostUser(sock, 1)
                .script("echo size=$(cat /sys/block/vda/size)\n"
                        + "echo RESIZE-NOW\n"
                        + "i=0; while [ $(cat /sys/block/vda/size) = 131072 ] && [ $i -lt 600 ]; do"
                        + " sleep 0.1; i=$((i+1)); done\n"
                        + "echo resized=$(cat /sys/block/vda/size)\n"
                        + "dd if=/dev/zero of=/dev/vda bs=4096 seek=20000 count=1 oflag=direct 2>/dev/null"
                        + " && echo WROTE-PAST-OLD-END\n")
                .start(dir)) {
            assertTrue(g.awaitConsole("RESIZE-NOW"), g.console());
            graph.resize(graph.find("disk"), 2 * SIZE);
            TestGuest.Result r = g.await();
            report("resize", r);
            assertEquals(0, r.exitStatus(), check(r));
            assertTrue(r.console().contains("size=131072"), r.console());
            assertTrue(r.console().contains("resized=262144"), r.console());
            assertTrue(r.console().contains("WROTE-PAST-OLD-END"), r.console());
        }
        assertEquals(2 * SIZE, Files.size(image));
    }

    @Test
    void safeDeleteRefusedWhileAGuestIsAttached() throws Exception {
        Path sock = export("vd", true, 1, null, null);
        try (TestGuest.Running g = TestGuest.builder().vhostUser(sock, 1)
                .script("echo ATTACHED\nsleep 600\n").start(dir)) {
            assertTrue(g.awaitConsole("ATTACHED"), g.console());
            io.isthmus.engine.EngineException e = org.junit.jupiter.api.Assertions.assertThrows(
                    io.isthmus.engine.EngineException.class, () -> manager.delete("vd", false));
            assertEquals("export 'vd' still in use", e.getMessage());
            manager.delete("vd", true);
            assertEquals("vd", deleted.poll(30, TimeUnit.SECONDS));
            BlockExport none = manager.find("vd");
            assertEquals(null, none);
        }
    }
}
