package io.isthmus.control.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Installed in place of QSD (issue 13): bin/isthmus reached through a symlink named qemu-storage-daemon on
 * PATH, started as Proxmox starts QSD ({@code --daemonize --pidfile}), must look like QSD to its caller —
 * argv[0] ending in qemu-storage-daemon and {@code --pidfile PATH} in /proc/PID/cmdline (Proxmox's check
 * before every command), a daemon that is not a session leader and not in the caller's session, cwd /,
 * umask 027, stdio on /dev/null, the caller's pipe closed once the parent returned, the pid file's and
 * the monitor socket's modes, and errors prefixed with the invoked name. The same scenario runs against
 * qemu-storage-daemon and the observations are compared.
 *
 * <p>The launcher runs with {@code ISTHMUS_CLASSPATH} set to the test class path (no Maven build inside a test).
 */
@Timeout(120)
class InstalledAsQsdTest {
    /** What a caller can see of a daemonized daemon. */
    record Seen(String argv0Tail, boolean pidfileArg, boolean sessionLeader, boolean callersSession, String cwd,
                String umask, String pidfileMode, String socketMode, List<String> stdio, boolean pidfileGone) {
    }

    @Test
    void daemonizedThroughSymlinkLooksLikeQsd() throws Exception {
        Seen isthmus = daemonize(symlinkToLauncher());
        assertEquals("qemu-storage-daemon", isthmus.argv0Tail(), "argv[0]");
        assertTrue(isthmus.pidfileArg(), "--pidfile PATH in /proc/PID/cmdline");
        assertFalse(isthmus.sessionLeader(), "double fork: not a session leader");
        assertFalse(isthmus.callersSession(), "setsid: a new session");
        assertEquals("/", isthmus.cwd());
        assertEquals("0027", isthmus.umask());
        assertEquals("rw-------", isthmus.pidfileMode());
        assertEquals("rwxr-x---", isthmus.socketMode());
        assertEquals(List.of("/dev/null", "/dev/null", "/dev/null"), isthmus.stdio());
        assertTrue(isthmus.pidfileGone(), "pid file removed at quit");
        if (Tools.onPath("qemu-storage-daemon")) {
            assertEquals(daemonize(symlinkTo(which("qemu-storage-daemon"))), isthmus);
        }
    }

    @Test
    void errorsCarryTheInvokedName() throws Exception {
        String isthmus = startupError(symlinkToLauncher());
        assertEquals("qemu-storage-daemon: --blockdev driver=nosuch: Parameter 'driver' does not accept value 'nosuch'\n",
                isthmus);
        if (Tools.onPath("qemu-storage-daemon")) {
            assertEquals(startupError(symlinkTo(which("qemu-storage-daemon"))), isthmus);
        }
    }

    @Test
    void daemonizeFailureReachesTheCallerAndExitsOne() throws Exception {
        Path bin = symlinkToLauncher();
        Path dir = bin.getParent().getParent();
        Process p = launch(bin, dir, "--daemonize", "--blockdev", "driver=file,node-name=x,filename=/nonexistent/x");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue());
        assertEquals("", out);
        String err = waitForStderr(dir);
        assertEquals("qemu-storage-daemon: --blockdev driver=file,node-name=x,filename=/nonexistent/x: "
                + "Could not open '/nonexistent/x': No such file or directory\n", err);
    }

    /**
     * Proxmox VE's sequence for a VM's storage daemon (qemu-server's QSD.pm): start with --daemonize and
     * --pidfile, the process check before every command (pid file, then argv[0] and --pidfile in
     * /proc/PID/cmdline), a throttle-group and a throttle-topped drive tree, an NBD export, a live limits
     * change, teardown, quit and the wait for exit, then a second start of the same daemon. The replies must be
     * QSD's.
     */
    @Test
    void proxmoxSequence() throws Exception {
        List<Object> isthmus = proxmox(symlinkToLauncher(), false);
        if (Tools.onPath("qemu-storage-daemon")) {
            assertEquals(proxmox(symlinkTo(which("qemu-storage-daemon")), false), isthmus);
        }
    }

    /**
     * The same sequence with a FUSE export (Proxmox's TPM state as a raw file): a pre-created 0600 regular file
     * as mountpoint, writable, growable off, allow-other off, over the throttled tree; dd and cmp through the
     * mount, and no mount left after block-export-del and after quit.
     */
    @Test
    void proxmoxSequenceWithFuseExport() throws Exception {
        assumeTrue(!"false".equals(System.getProperty("isthmus.it")), "integration tests disabled (isthmus.it=false)");
        assumeTrue(Files.isReadable(Path.of("/dev/fuse")) && Files.isWritable(Path.of("/dev/fuse")),
                "/dev/fuse is not accessible");
        Tools.require("qemu-img", "fusermount3", "dd", "cmp");
        List<Object> isthmus = proxmox(symlinkToLauncher(), true);
        if (Tools.onPath("qemu-storage-daemon")) {
            assertEquals(proxmox(symlinkTo(which("qemu-storage-daemon")), true), isthmus);
        }
    }

    /** The replies and events of two rounds of Proxmox's sequence, with an NBD or a FUSE export. */
    private static List<Object> proxmox(Path exe, boolean fuse) throws Exception {
        Path dir = exe.getParent().getParent();
        Path pidfile = dir.resolve("qsd.pid");
        Path sock = dir.resolve("qmp.sock");
        Path disk = dir.resolve("tpm.qcow2");
        Path mnt = dir.resolve("tpmstate0.raw");
        Tools.run(30, "qemu-img", "create", "-q", "-f", "qcow2", disk.toString(), "4M").ok();
        if (fuse) {
            Files.createFile(mnt, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        List<Object> replies = new ArrayList<>();
        try {
            for (int round = 0; round < 2; round++) {
                Process parent = launch(exe, dir, "--daemonize", "--chardev",
                        "socket,id=qmp,path=" + sock + ",server=on,wait=off", "--monitor", "chardev=qmp,mode=control",
                        "--pidfile", pidfile.toString());
                readAllWithin(parent.getInputStream(), 60_000);
                assertTrue(parent.waitFor(60, TimeUnit.SECONDS));
                assertEquals(0, parent.exitValue(), () -> readQuietly(dir.resolve("stderr.txt")));
                long pid = Long.parseLong(Files.readString(pidfile).trim());
                ProcessHandle daemon = ProcessHandle.of(pid).orElseThrow();
                try (Qmp qmp = Qmp.connect(sock, null)) {
                    List<Object[]> setup = new ArrayList<>(List.of(
                        new Object[] {"object-add", Qmp.args("qom-type", "throttle-group",
                                "id", "throttle-drive-tpmstate0",
                                "limits", Map.of())},
                        new Object[] {"blockdev-add", Qmp.args("driver", "throttle", "node-name", "drive-tpmstate0",
                                "throttle-group", "throttle-drive-tpmstate0", "file", Qmp.args("driver", "qcow2",
                                        "node-name", "f-tpmstate0", "read-only", false,
                                        "cache", Qmp.args("direct", false, "no-flush", false),
                                        "discard", "unmap", "detect-zeroes", "unmap",
                                        "file", Qmp.args("driver", "file", "filename", disk.toString(),
                                                "cache", Qmp.args("direct", false, "no-flush", false),
                                                "aio", "io_uring", "discard", "unmap", "detect-zeroes", "unmap",
                                                "node-name", "e-tpmstate0", "read-only", false)))},
                        new Object[] {"nbd-server-start", Qmp.args("addr", Qmp.args("type", "unix",
                                "data", Qmp.args("path", dir.resolve("nbd.sock").toString())))},
                        new Object[] {"block-export-add", Qmp.args("type", "nbd", "id", "tpmstate0",
                                "node-name", "drive-tpmstate0", "writable", true, "name", "tpmstate0")}));
                    if (fuse) {
                        setup.subList(2, 4).clear();
                        setup.add(new Object[] {"block-export-add", Qmp.args("type", "fuse", "id", "tpmstate0",
                                "node-name", "drive-tpmstate0", "mountpoint", mnt.toString(), "writable", true,
                                "growable", false, "allow-other", "off")});
                    }
                    setup.add(new Object[] {"query-block-exports", null});
                    List<Object[]> steps = List.of(
                        new Object[] {"qom-set", Qmp.args("path", "throttle-drive-tpmstate0", "property", "limits",
                                "value", Qmp.args("iops-total", 100, "bps-total", 1048576))},
                        new Object[] {"qom-get", Qmp.args("path", "throttle-drive-tpmstate0", "property", "limits")},
                        new Object[] {"object-del", Qmp.args("id", "throttle-drive-tpmstate0")},
                        new Object[] {"block-export-del", Qmp.args("id", "tpmstate0")},
                        new Object[] {"blockdev-del", Qmp.args("node-name", "drive-tpmstate0")},
                        new Object[] {"object-del", Qmp.args("id", "throttle-drive-tpmstate0")});
                    run(qmp, pid, pidfile, setup, replies);
                    if (fuse) {
                        replies.add(throughTheMount(dir, mnt));
                    }
                    run(qmp, pid, pidfile, steps, replies);
                    if (fuse) {
                        awaitUnmounted(mnt);
                    }
                    replies.add(withoutTimestamp(
                            qmp.awaitEvent("BLOCK_EXPORT_DELETED", Map.of("id", "tpmstate0"), 10_000)));
                    replies.add(qmp.execute("quit", null));
                    for (Map<String, Object> m : qmp.readToEnd(30_000)) {
                        replies.add(withoutTimestamp(m));
                    }
                }
                daemon.onExit().get(30, TimeUnit.SECONDS);
                assertFalse(Files.exists(pidfile), "pid file removed at quit");
                assertFalse(fuse && FuseExportTest.mounted(mnt), "no mount left after quit");
            }
        } finally {
            if (fuse && FuseExportTest.mounted(mnt)) {
                Tools.run(10, "fusermount3", "-u", "-z", mnt.toString());
            }
        }
        return replies;
    }

    /** Sends each step after Proxmox's check (pid file, then argv[0] and --pidfile in /proc/PID/cmdline). */
    private static void run(Qmp qmp, long pid, Path pidfile, List<Object[]> steps, List<Object> replies)
            throws Exception {
        for (Object[] step : steps) {
            List<String> argv = Arrays.asList(Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0"));
            assertTrue(argv.getFirst().matches("(?:^|.*/)qemu-[^/]+$"), argv.getFirst());
            assertEquals(pidfile.toString(), argv.get(argv.indexOf("--pidfile") + 1));
            @SuppressWarnings("unchecked")
            Map<String, Object> a = (Map<String, Object>) step[1];
            replies.add(qmp.execute((String) step[0], a));
        }
    }

    /** What swtpm does to its state file: dd in (with fsync, and O_DIRECT), dd out, cmp; returns what it saw. */
    private static List<Object> throughTheMount(Path dir, Path mnt) throws Exception {
        assertTrue(FuseExportTest.mounted(mnt), "mounted");
        byte[] data = new byte[(1 << 20) + 4096];
        new java.util.Random(13).nextBytes(data);
        Path src = dir.resolve("src.bin");
        Files.write(src, data);
        Tools.run(30, "dd", "if=" + src, "of=" + mnt, "bs=4096", "seek=16", "conv=notrunc,fsync", "status=none").ok();
        Tools.run(30, "dd", "if=" + src, "of=" + mnt, "bs=64k", "count=1", "seek=48", "oflag=direct",
                "conv=notrunc", "status=none").ok();
        Path back = dir.resolve("back.bin");
        Tools.run(30, "dd", "if=" + mnt, "of=" + back, "bs=4096", "skip=16", "count=" + (data.length / 4096),
                "status=none").ok();
        Tools.run(30, "cmp", src.toString(), back.toString()).ok();
        return List.of("mount", Files.size(mnt), PosixFilePermissions.toString(Files.getPosixFilePermissions(mnt)));
    }

    private static void awaitUnmounted(Path mnt) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (FuseExportTest.mounted(mnt) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertFalse(FuseExportTest.mounted(mnt), mnt + " is still mounted after block-export-del");
    }

    /** A message without its timestamp (null stays null: a missing event shows in the comparison). */
    private static Map<String, Object> withoutTimestamp(Map<String, Object> m) {
        if (m == null) {
            return null;
        }
        Map<String, Object> c = new java.util.LinkedHashMap<>(m);
        c.remove("timestamp");
        return c;
    }

    private static Seen daemonize(Path exe) throws Exception {
        Path dir = exe.getParent().getParent();
        Path pidfile = dir.resolve("qsd.pid");
        Path sock = dir.resolve("qmp.sock");
        Process parent = launch(exe, dir, "--daemonize", "--pidfile", pidfile.toString(),
                "--chardev", "socket,id=m,path=" + sock + ",server=on,wait=off", "--monitor", "chardev=m");
        // the caller's stdout pipe reaches end of file: the daemon let go of it
        byte[] out = readAllWithin(parent.getInputStream(), 60_000);
        assertTrue(parent.waitFor(60, TimeUnit.SECONDS), "parent returns");
        assertEquals(0, parent.exitValue(), () -> "parent exit status; stderr: " + readQuietly(dir.resolve("stderr.txt")));
        assertEquals(0, out.length);
        assertTrue(Files.exists(sock), "the monitor listens when the parent returns");
        long pid = Long.parseLong(Files.readString(pidfile).trim());
        List<String> argv = Arrays.asList(Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0"));
        String argv0 = argv.getFirst();
        assertTrue(argv0.matches("(?:^|.*/)qemu-[^/]+$"), argv0);
        int i = argv.indexOf("--pidfile");
        boolean pidfileArg = i > 0 && i + 1 < argv.size() && argv.get(i + 1).equals(pidfile.toString());
        long sid = sessionOf("/proc/" + pid + "/stat");
        long mySid = sessionOf("/proc/self/stat");
        String umask = Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                .filter(l -> l.startsWith("Umask:")).map(l -> l.substring(6).trim()).findFirst().orElse("?");
        List<String> stdio = new ArrayList<>();
        for (int fd = 0; fd < 3; fd++) {
            stdio.add(Files.readSymbolicLink(Path.of("/proc/" + pid + "/fd/" + fd)).toString());
        }
        String cwd = Files.readSymbolicLink(Path.of("/proc/" + pid + "/cwd")).toString();
        String pidMode = PosixFilePermissions.toString(Files.getPosixFilePermissions(pidfile, LinkOption.NOFOLLOW_LINKS));
        String sockMode = PosixFilePermissions.toString(Files.getPosixFilePermissions(sock, LinkOption.NOFOLLOW_LINKS));
        ProcessHandle daemon = ProcessHandle.of(pid).orElseThrow();
        try (Qmp qmp = Qmp.connect(sock, null)) {
            qmp.ok("quit", Map.of());
        }
        daemon.onExit().get(30, TimeUnit.SECONDS);
        boolean gone = !Files.exists(pidfile);
        return new Seen(argv0.substring(argv0.lastIndexOf('/') + 1), pidfileArg, sid == pid, sid == mySid, cwd,
                umask, pidMode, sockMode, stdio, gone);
    }

    private static String startupError(Path exe) throws Exception {
        Path dir = exe.getParent().getParent();
        Process p = launch(exe, dir, "--blockdev", "driver=nosuch");
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue());
        return Files.readString(dir.resolve("stderr.txt"));
    }

    /** Runs {@code qemu-storage-daemon ARGS} found on PATH (dir/bin first), as a caller's shell would. */
    private static Process launch(Path exe, Path dir, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("/bin/bash", "-c", "exec qemu-storage-daemon \"$@\"", "sh"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectError(dir.resolve("stderr.txt").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Map<String, String> env = pb.environment();
        env.put("PATH", exe.getParent() + ":" + env.getOrDefault("PATH", "/usr/bin:/bin"));
        env.put("ISTHMUS_CLASSPATH", System.getProperty("java.class.path"));
        env.put("JAVA_HOME", System.getProperty("java.home"));
        return pb.start();
    }

    private static Path symlinkToLauncher() throws IOException {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isExecutable(dir.resolve("bin/isthmus"))) {
            dir = dir.getParent();
        }
        assertTrue(dir != null, "bin/isthmus not found above " + Path.of("").toAbsolutePath());
        return symlinkTo(dir.resolve("bin/isthmus"));
    }

    private static Path symlinkTo(Path target) throws IOException {
        Path bin = Files.createDirectories(Tools.tempDir().resolve("bin"));
        return Files.createSymbolicLink(bin.resolve("qemu-storage-daemon"), target);
    }

    private static Path which(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(d, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new AssertionError(tool + " not on PATH");
    }

    /** Field 6 of /proc/PID/stat (after the parenthesised comm, which may hold spaces). */
    private static long sessionOf(String stat) throws IOException {
        String s = Files.readString(Path.of(stat));
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[3]);
    }

    private static byte[] readAllWithin(InputStream in, long ms) throws Exception {
        var f = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        return f.get(ms, TimeUnit.MILLISECONDS);
    }

    /** The grandchild may still be writing when the parent has returned: wait for the line to appear. */
    private static String waitForStderr(Path dir) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String s = readQuietly(dir.resolve("stderr.txt"));
        while (!s.endsWith("\n") && System.nanoTime() < end) {
            Thread.sleep(50);
            s = readQuietly(dir.resolve("stderr.txt"));
        }
        return s;
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }
}
