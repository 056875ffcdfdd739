package io.isthmus.engine.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The test guest itself: boots it with a raw virtio disk made here and runs fio with verification and dd in both
 * directions (host-written data read in the guest, guest-written data read on the host); checks that the script's
 * exit status reaches the result; and boots it once through {@code vhost-user-blk-pci} on qemu-storage-daemon's
 * vhost-user-blk export (the reference the Isthmus export's guest tests will be compared with).
 */
@Timeout(600)
class TestGuestTest {
    private static final int MIB = 1 << 20;
    /** A short fio run with verification on /dev/vda's first 16 MiB: 4 KiB random reads and writes. */
    static final String FIO = "fio --name=randrw --filename=/dev/vda --ioengine=libaio --direct=1 --rw=randrw "
            + "--bs=4k --iodepth=16 --size=16M --runtime=20 --verify=crc32c --do_verify=1 --verify_fatal=1 "
            + "--randrepeat=0 --eta=never --output-format=terse --terse-version=3 >/tmp/fio.out 2>&1"
            + " || { cat /tmp/fio.out; exit 1; }\n"
            + "cut -d';' -f1-8 /tmp/fio.out\n";

    @TempDir
    Path dir;

    @BeforeEach
    void gate() {
        TestGuest.assumeAvailable();
    }

    @Test
    void rawDiskRunsFioWithVerificationAndDdInBothDirections() throws Exception {
        Path image = dir.resolve("disk.raw");
        byte[] fromHost = pattern(1, MIB);
        byte[] fromGuest = pattern(2, MIB);
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(64L * MIB);
            f.seek(32L * MIB);
            f.write(fromHost);
        }
        TestGuest.Result r = TestGuest.builder().rawDisk(image)
                .file("isthmus/from-host.bin", fromHost)
                .file("isthmus/from-guest.bin", fromGuest)
                .script("set -e\n"
                        + "echo size=$(cat /sys/block/vda/size)\n"
                        + FIO
                        + "dd if=/dev/vda of=/tmp/read.bin bs=64k skip=512 count=16 iflag=direct 2>/dev/null\n"
                        + "cmp /tmp/read.bin /isthmus/from-host.bin\n"
                        + "dd if=/isthmus/from-guest.bin of=/dev/vda bs=64k seek=768 oflag=direct 2>/dev/null\n"
                        + "sync\n"
                        + "echo GUEST-DONE\n")
                .run(dir);
        System.out.println("raw-disk boot to exit marker: " + r.elapsed().toMillis() + " ms");
        assertFalse(r.timedOut(), r.console());
        assertEquals(0, r.exitStatus(), r.console());
        assertEquals(0, r.qemuExit(), r.console());
        assertTrue(r.console().contains("size=131072"), r.console());
        assertTrue(r.console().contains("3;fio-"), r.console());
        assertTrue(r.console().contains("GUEST-DONE"), r.console());
        byte[] back = new byte[MIB];
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
            f.seek(48L * MIB);
            f.readFully(back);
        }
        assertArrayEquals(fromGuest, back, "what the guest wrote at 48 MiB");
    }

    @Test
    void failingScriptsStatusReachesTheResult() throws Exception {
        TestGuest.Result r = TestGuest.builder().script("echo about to fail\nexit 3\n").run(dir);
        System.out.println("bare boot to exit marker: " + r.elapsed().toMillis() + " ms");
        assertEquals(3, r.exitStatus(), r.console());
        assertFalse(r.timedOut(), r.console());
        assertTrue(r.console().contains("about to fail"), r.console());
    }

    @Test
    void vhostUserBlkOnQemuStorageDaemonWithTwoQueues() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/qemu-storage-daemon")), "qemu-storage-daemon is not installed");
        Path image = dir.resolve("vhost.raw");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(64L * MIB);
        }
        Path sock = dir.resolve("vhost.sock");
        Process qsd = new ProcessBuilder(List.of("qemu-storage-daemon",
                "--blockdev", "driver=file,node-name=file,filename=" + image,
                "--export", "type=vhost-user-blk,id=e,node-name=file,writable=on,num-queues=2,addr.type=unix,addr.path="
                        + sock)).redirectErrorStream(true).redirectOutput(dir.resolve("qsd.log").toFile()).start();
        try {
            awaitSocket(qsd, sock);
            TestGuest.Result r = TestGuest.builder().vhostUser(sock, 2).cpus(2)
                    .script("set -e\n"
                            + "echo size=$(cat /sys/block/vda/size) queues=$(ls /sys/block/vda/mq | wc -l)\n"
                            + FIO)
                    .run(dir);
            System.out.println("vhost-user boot to exit marker: " + r.elapsed().toMillis() + " ms");
            assertEquals(0, r.exitStatus(), r.console() + "\nqsd: " + Files.readString(dir.resolve("qsd.log")));
            assertTrue(r.console().contains("size=131072 queues=2"), r.console());
            assertTrue(r.console().contains("3;fio-"), r.console());
        } finally {
            qsd.destroy();
            if (!qsd.waitFor(5, TimeUnit.SECONDS)) {
                qsd.destroyForcibly().waitFor();
            }
        }
    }

    private static void awaitSocket(Process p, Path sock) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(sock)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                throw new IOException("qemu-storage-daemon did not create " + sock);
            }
            Thread.sleep(10);
        }
    }

    private static byte[] pattern(long seed, int length) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }
}
