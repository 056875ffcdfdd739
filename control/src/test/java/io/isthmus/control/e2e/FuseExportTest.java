package io.isthmus.control.e2e;

import static io.isthmus.control.e2e.Qmp.args;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Done-when of issue 12 at the daemon level: Proxmox VE's sequence for a VM's TPM state, unchanged, against Isthmus
 * and against qemu-storage-daemon (behaviour compared, not bytes): {@code --daemonize --pidfile} with a QMP socket
 * chardev, blockdev-add of qcow2 over file, block-export-add type=fuse on a pre-created 0600 file (writable,
 * growable off, allow-other off), dd/cmp through the mount, block-export-del, quit; then no mount is left and the
 * image holds exactly what was written ({@code qemu-img compare}). Also: SIGTERM, SIGINT and quit unmount (the
 * export manager's close-all at shutdown), a later failing option leaves no mount, and after SIGKILL no stale
 * mount blocks the next start on the same path.
 */
@Timeout(180)
class FuseExportTest {
    private static final int MiB = 1 << 20;

    private static void assumeFuse() {
        assumeTrue(!"false".equals(System.getProperty("isthmus.it")), "integration tests disabled (isthmus.it=false)");
        assumeTrue(Files.isReadable(Path.of("/dev/fuse")) && Files.isWritable(Path.of("/dev/fuse")),
                "/dev/fuse is not accessible");
        Tools.require("qemu-img", "fusermount3", "dd", "cmp");
    }

    /** Whether {@code p} is a mount point now (the test shares the daemons' mount namespace). */
    static boolean mounted(Path p) throws IOException {
        String abs = p.toAbsolutePath().toString();
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().anyMatch(l -> l.split(" ")[4].equals(abs));
    }

    private static void awaitUnmounted(Path p, long millis) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (mounted(p) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertFalse(mounted(p), p + " is still mounted");
    }

    @Test
    void proxmoxTpmStateSequenceOnIsthmus() throws Exception {
        assumeFuse();
        proxmoxSequence(Daemon.Kind.ISTHMUS);
    }

    @Test
    void proxmoxTpmStateSequenceOnQsd() throws Exception {
        assumeFuse();
        assumeTrue(Tools.onPath("qemu-storage-daemon"), "qemu-storage-daemon is not installed");
        proxmoxSequence(Daemon.Kind.QSD);
    }

    private static void proxmoxSequence(Daemon.Kind kind) throws Exception {
        Path dir = Tools.tempDir();
        Path mnt = dir.resolve("tpmstate0.raw");
        Qmp qmp = null;
        ProcessHandle daemon = null;
        try {
            Path img = dir.resolve("vm-100-disk-1.qcow2");
            Tools.run(30, "qemu-img", "create", "-q", "-f", "qcow2", img.toString(), "4M").ok();
            Files.createFile(mnt, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Path sock = dir.resolve("qmp.sock");
            Path pidfile = dir.resolve("qsd.pid");
            List<String> cmd = new ArrayList<>(Daemon.command(kind));
            cmd.addAll(List.of("--daemonize", "--pidfile", pidfile.toString(),
                    "--chardev", "socket,id=qmp,path=" + sock + ",server=on,wait=off",
                    "--monitor", "chardev=qmp,mode=control"));
            Process parent = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("daemonize-out.txt").toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            assertTrue(parent.waitFor(60, TimeUnit.SECONDS), kind + ": --daemonize did not return");
            assertEquals(0, parent.exitValue(), kind + ": " + Files.readString(dir.resolve("daemonize-out.txt")));
            long pid = Long.parseLong(Files.readString(pidfile).trim());
            daemon = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no process " + pid));
            assertTrue(Files.exists(sock), "the monitor listens once --daemonize returned");
            qmp = Qmp.connect(sock, parent);

            qmp.ok("blockdev-add", args("driver", "qcow2", "node-name", "drive-tpmstate0",
                    "file", args("driver", "file", "filename", img.toString())));
            qmp.ok("block-export-add", args("type", "fuse", "id", "drive-tpmstate0", "node-name", "drive-tpmstate0",
                    "mountpoint", mnt.toString(), "writable", true, "growable", false, "allow-other", "off"));
            assertTrue(mounted(mnt), kind + ": mounted");
            assertEquals(4L * MiB, Files.size(mnt));

            // what swtpm does to its state file, and a read back with cmp
            byte[] data = new byte[MiB + 4096];
            new Random(12).nextBytes(data);
            Path src = dir.resolve("src.bin");
            Files.write(src, data);
            Tools.run(30, "dd", "if=" + src, "of=" + mnt, "bs=4096", "seek=16", "conv=notrunc,fsync", "status=none")
                    .ok();
            Tools.run(30, "dd", "if=" + src, "of=" + mnt, "bs=64k", "count=1", "seek=48", "oflag=direct",
                    "conv=notrunc", "status=none").ok();
            Path back = dir.resolve("back.bin");
            Tools.run(30, "dd", "if=" + mnt, "of=" + back, "bs=4096", "skip=16", "count=" + (data.length / 4096),
                    "status=none").ok();
            Tools.run(30, "cmp", src.toString(), back.toString()).ok();
            assertEquals(4L * MiB, Files.size(mnt), kind + ": the size holds (not growable)");

            qmp.ok("block-export-del", args("id", "drive-tpmstate0"));
            assertNotNull(qmp.awaitEvent("BLOCK_EXPORT_DELETED", args("id", "drive-tpmstate0"), 10_000));
            awaitUnmounted(mnt, 5_000);
            qmp.ok("quit", null);
            assertTrue(daemon.onExit().get(30, TimeUnit.SECONDS) != null);
            assertFalse(daemon.isAlive(), kind + " still runs after quit");
            qmp.close();
            qmp = null;
            daemon = null;
            assertFalse(mounted(mnt));

            byte[] expected = new byte[4 * MiB];
            System.arraycopy(data, 0, expected, 16 * 4096, data.length);
            System.arraycopy(data, 0, expected, 48 * 65536, 65536);
            Path exp = dir.resolve("expected.raw");
            Files.write(exp, expected);
            Tools.run(60, "qemu-img", "compare", "-f", "qcow2", "-F", "raw", img.toString(), exp.toString()).ok();
        } finally {
            if (qmp != null) {
                qmp.close();
            }
            if (daemon != null) {
                daemon.destroyForcibly();
                daemon.onExit().get(10, TimeUnit.SECONDS);
            }
            if (mounted(mnt)) {
                Tools.run(10, "fusermount3", "-u", "-z", mnt.toString());
            }
            Tools.deleteTree(dir);
        }
    }

    @Test
    void sigtermSigintAndQuitUnmountOnIsthmusAndQsd() throws Exception {
        assumeFuse();
        for (String how : List.of("TERM", "INT", "quit")) {
            int isthmus = stop(Daemon.Kind.ISTHMUS, how);
            if (Tools.onPath("qemu-storage-daemon")) {
                assertEquals(stop(Daemon.Kind.QSD, how), isthmus, "exit status after " + how);
            }
        }
    }

    /** Starts a daemon with a FUSE export on its command line, stops it {@code how}; returns its exit status. */
    private static int stop(Daemon.Kind kind, String how) throws Exception {
        Path dir = Tools.tempDir();
        Path mnt = dir.resolve("mnt");
        try {
            Files.createFile(mnt);
            Path img = Tools.sparseFile(dir, "disk.raw", 8 * MiB);
            try (Daemon d = Daemon.start(kind, dir, List.of(
                    "--blockdev", "driver=file,node-name=f0,filename=" + img,
                    "--export", "type=fuse,id=e0,node-name=f0,mountpoint=" + mnt + ",writable=on"))) {
                assertTrue(mounted(mnt), kind + ": mounted by --export");
                Tools.run(30, "dd", "if=/dev/zero", "of=" + mnt, "bs=4096", "count=1", "conv=notrunc", "status=none")
                        .ok();
                if (how.equals("quit")) {
                    d.qmp.ok("quit", null);
                } else {
                    Tools.run(10, "kill", "-" + how, Long.toString(d.pid())).ok();
                }
                assertTrue(d.process.waitFor(20, TimeUnit.SECONDS), kind + " still running after " + how);
                assertFalse(mounted(mnt), kind + ": no mount left after " + how);
                return d.process.exitValue();
            }
        } finally {
            if (mounted(mnt)) {
                Tools.run(10, "fusermount3", "-u", "-z", mnt.toString());
            }
            Tools.deleteTree(dir);
        }
    }

    @Test
    void aFailingLaterOptionLeavesNoMount() throws Exception {
        assumeFuse();
        Path dir = Tools.tempDir();
        Path mnt = dir.resolve("mnt");
        try {
            Files.createFile(mnt);
            Path img = Tools.sparseFile(dir, "disk.raw", MiB);
            List<String> cmd = new ArrayList<>(Daemon.command(Daemon.Kind.ISTHMUS));
            cmd.addAll(List.of("--blockdev", "driver=file,node-name=f0,filename=" + img,
                    "--export", "type=fuse,id=e0,node-name=f0,mountpoint=" + mnt,
                    "--export", "type=nbd,id=e1,node-name=f0"));
            Tools.Result r = Tools.run(60, cmd);
            assertEquals(1, r.exit(), r.toString());
            assertTrue(r.err().contains("NBD server not running"), r.err());
            assertFalse(mounted(mnt), "the FUSE export of the failed start is unmounted before exit");
        } finally {
            if (mounted(mnt)) {
                Tools.run(10, "fusermount3", "-u", "-z", mnt.toString());
            }
            Tools.deleteTree(dir);
        }
    }

    @Test
    void afterSigkillTheNextStartFindsNoStaleMount() throws Exception {
        assumeFuse();
        Path dir = Tools.tempDir();
        Path mnt = dir.resolve("mnt");
        try {
            Files.createFile(mnt);
            Path img = Tools.sparseFile(dir, "disk.raw", MiB);
            List<String> opts = List.of("--blockdev", "driver=file,node-name=f0,filename=" + img,
                    "--export", "type=fuse,id=e0,node-name=f0,mountpoint=" + mnt + ",writable=on");
            try (Daemon d = Daemon.isthmus(dir, opts)) {
                assertTrue(mounted(mnt));
                d.process.destroyForcibly(); // SIGKILL: nothing of the daemon runs any more
                assertTrue(d.process.waitFor(10, TimeUnit.SECONDS));
            }
            awaitUnmounted(mnt, 10_000); // the unmount watcher's work
            Files.deleteIfExists(dir.resolve("isthmus-qmp.sock"));
            try (Daemon d = Daemon.isthmus(dir, opts)) {
                assertTrue(mounted(mnt), "the next start mounts on the same path");
                assertEquals(MiB, Files.size(mnt));
            }
            awaitUnmounted(mnt, 10_000);
        } finally {
            if (mounted(mnt)) {
                Tools.run(10, "fusermount3", "-u", "-z", mnt.toString());
            }
            Tools.deleteTree(dir);
        }
    }
}
