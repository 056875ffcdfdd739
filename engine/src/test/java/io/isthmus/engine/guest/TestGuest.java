package io.isthmus.engine.guest;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

/**
 * Boots the tiny Linux test guest (Debian's cloud kernel and a busybox initramfs with the virtio modules and fio,
 * built by {@code engine/src/test/guest/build-guest.sh}) in QEMU under TCG, with virtio-blk disks that are either
 * vhost-user-blk front ends ({@code -device vhost-user-blk-pci} on a daemon's socket) or plain raw images, runs a
 * shell script in the guest and returns its console output and exit status.
 *
 * <p>The script reaches the guest in a small gzip'd cpio archive appended to the guest's initramfs (Linux unpacks
 * concatenated archives into one rootfs) as {@code /isthmus/run.sh}; the guest's /init runs it with busybox sh
 * after loading the virtio modules, prints {@code ISTHMUS-GUEST-EXIT=<status>} and powers off. The first disk is
 * {@code /dev/vda}, the next {@code /dev/vdb}, in the order added. Guest memory is a shared memfd, as vhost-user
 * needs.
 *
 * <p>Threads: a builder and the {@link Running} guest it starts are used by one test thread. The guest is built
 * once per JVM (and cached on disk across runs, see {@link #guestDir()}). Each boot owns its QEMU process and the
 * files it writes in the work directory (initramfs copy, console log); {@link Running#close()} kills QEMU.
 *
 * <pre>{@code
 * TestGuest.Result r = TestGuest.builder()
 *         .vhostUser(socket, 2).cpus(2)
 *         .script("fio --name=v --filename=/dev/vda --rw=randrw --verify=crc32c --size=8M")
 *         .run(tempDir);
 * assertEquals(0, r.exitStatus(), r.console());
 * }</pre>
 */
public final class TestGuest {
    /** The line the guest's /init prints when the test's script has ended. */
    public static final Pattern EXIT_MARKER = Pattern.compile("ISTHMUS-GUEST-EXIT=(\\d+)");
    private static final String QEMU = "qemu-system-x86_64";
    private static final AtomicInteger BOOTS = new AtomicInteger();
    private static Path built;

    /**
     * What a boot produced: the guest script's exit status ({@code -1} when the guest never printed the marker:
     * a crash, a panic, or a timeout), QEMU's exit code ({@code -1} when it was killed), the console (serial
     * output and QEMU's own messages), and the time from QEMU's start to its end.
     */
    public record Result(int exitStatus, int qemuExit, boolean timedOut, String console, Duration elapsed) {
        /** True when the script ran to its end with status 0 and QEMU exited by itself. */
        public boolean passed() {
            return exitStatus == 0 && !timedOut;
        }
    }

    private final List<String> devices = new ArrayList<>();
    private final List<String> extraQemu = new ArrayList<>();
    private final Map<String, byte[]> files = new LinkedHashMap<>();
    private String script = "echo no script given; exit 1\n";
    private String append = "";
    private int cpus = 1;
    private int memoryMiB = 512;
    private Duration timeout = Duration.ofSeconds(180);

    private TestGuest() {}

    public static TestGuest builder() {
        return new TestGuest();
    }

    /**
     * Skips the calling test unless integration tests are on ({@code isthmus.it} is not {@code false}) and QEMU,
     * busybox-static, fio and cpio are installed (bin/check installs them).
     */
    public static void assumeAvailable() {
        assumeTrue(!"false".equals(System.getProperty("isthmus.it")), "integration tests disabled (isthmus.it=false)");
        for (String b : List.of(QEMU, "fio", "cpio", "apt-get")) {
            assumeTrue(Files.isExecutable(Path.of("/usr/bin", b)) || Files.isExecutable(Path.of("/bin", b)),
                    b + " is not installed (bin/check installs the test peers)");
        }
        assumeTrue(Files.exists(Path.of("/var/lib/dpkg/info/busybox-static.list")),
                "busybox-static is not installed (bin/check installs the test peers)");
    }

    /**
     * The directory that holds the built guest ({@code vmlinuz}, {@code initrd.img}, {@code guest.key}), built on
     * first use in this JVM: the {@code isthmus.guest.dir} system property, else {@code engine/target/guest}. The
     * build script does nothing when the directory already holds a guest built from the same kernel, busybox,
     * fio and script versions.
     */
    public static synchronized Path guestDir() throws IOException, InterruptedException {
        if (built != null) {
            return built;
        }
        Path root = repositoryRoot();
        String prop = System.getProperty("isthmus.guest.dir");
        Path dir = prop != null && !prop.isBlank() ? Path.of(prop) : root.resolve("engine/target/guest");
        Path scriptFile = root.resolve("engine/src/test/guest/build-guest.sh");
        Files.createDirectories(dir);
        Path log = dir.resolve("build.log");
        Process p = new ProcessBuilder("bash", scriptFile.toString(), dir.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        try {
            if (!p.waitFor(15, TimeUnit.MINUTES)) {
                throw new IOException("build-guest.sh timed out; log: " + Files.readString(log));
            }
        } finally {
            p.destroyForcibly();
        }
        if (p.exitValue() != 0) {
            throw new IOException("build-guest.sh failed (" + p.exitValue() + "):\n" + Files.readString(log));
        }
        built = dir;
        return dir;
    }

    /** Adds a vhost-user-blk disk on the daemon's UNIX socket with {@code numQueues} queues. */
    public TestGuest vhostUser(Path socket, int numQueues) {
        return vhostUser(socket, numQueues, "", "");
    }

    /**
     * Adds a vhost-user-blk disk with extra properties: {@code chardevOptions} are appended to
     * {@code -chardev socket,id=..,path=..} (e.g. {@code "reconnect=1"}), {@code deviceOptions} to
     * {@code -device vhost-user-blk-pci,chardev=..,num-queues=..} (e.g. {@code "packed=on"}). Either may be empty.
     */
    public TestGuest vhostUser(Path socket, int numQueues, String chardevOptions, String deviceOptions) {
        String id = "vhu" + devices.size();
        devices.add("-chardev");
        devices.add("socket,id=" + id + ",path=" + qemuQuote(socket.toString()) + opt(chardevOptions));
        devices.add("-device");
        devices.add("vhost-user-blk-pci,chardev=" + id + ",num-queues=" + numQueues + opt(deviceOptions));
        return this;
    }

    /** Adds a plain raw image as a virtio-blk disk served by QEMU itself (for testing the guest without a daemon). */
    public TestGuest rawDisk(Path image) {
        devices.add("-drive");
        devices.add("file=" + qemuQuote(image.toString()) + ",if=virtio,format=raw");
        return this;
    }

    /** The shell script (busybox sh) the guest runs; its exit status is the result's. */
    public TestGuest script(String text) {
        this.script = text;
        return this;
    }

    /** Puts a further file into the guest's rootfs, e.g. {@code file("isthmus/expected.bin", bytes)}. */
    public TestGuest file(String guestPath, byte[] content) {
        files.put(guestPath.startsWith("/") ? guestPath.substring(1) : guestPath, content.clone());
        return this;
    }

    /** Virtual CPUs (default 1). Linux's virtio-blk uses at most one queue per CPU, so N queues want N CPUs. */
    public TestGuest cpus(int n) {
        this.cpus = n;
        return this;
    }

    /** Guest memory in MiB (default 512), a shared memfd. */
    public TestGuest memoryMiB(int mib) {
        this.memoryMiB = mib;
        return this;
    }

    /** Extra kernel parameters. */
    public TestGuest kernelArgs(String args) {
        this.append = args;
        return this;
    }

    /** Extra QEMU arguments (e.g. {@code -qmp unix:...}). */
    public TestGuest qemuArgs(String... args) {
        extraQemu.addAll(List.of(args));
        return this;
    }

    /** How long a boot may take until QEMU has exited (default 180 s); after it QEMU is killed. */
    public TestGuest timeout(Duration d) {
        this.timeout = d;
        return this;
    }

    /** Boots the guest and waits for it to power off (or for the timeout). */
    public Result run(Path workDir) throws IOException, InterruptedException {
        try (Running r = start(workDir)) {
            return r.await();
        }
    }

    /** Boots the guest and returns at once; the caller awaits or closes it. */
    public Running start(Path workDir) throws IOException, InterruptedException {
        Path dir = guestDir();
        int n = BOOTS.incrementAndGet();
        Path initrd = workDir.resolve("initrd-" + n + ".img");
        Files.copy(dir.resolve("initrd.img"), initrd);
        try (OutputStream out = Files.newOutputStream(initrd, StandardOpenOption.APPEND)) {
            Map<String, byte[]> all = new LinkedHashMap<>(files);
            all.put("isthmus/run.sh", script.getBytes(StandardCharsets.UTF_8));
            out.write(gzip(cpio(all)));
        }
        Path console = workDir.resolve("console-" + n + ".log");
        List<String> cmd = new ArrayList<>(List.of(QEMU, "-no-user-config", "-nodefaults", "-nographic",
                "-serial", "stdio", "-no-reboot"));
        if (Files.isReadable(Path.of("/dev/kvm")) && Files.isWritable(Path.of("/dev/kvm"))) {
            cmd.addAll(List.of("-accel", "kvm")); // QEMU falls back to the next -accel when KVM does not open
        }
        cmd.addAll(List.of("-accel", "tcg", "-cpu", "max", "-smp", Integer.toString(cpus),
                "-m", memoryMiB + "M",
                "-object", "memory-backend-memfd,id=mem,size=" + memoryMiB + "M,share=on",
                "-machine", "q35,memory-backend=mem",
                "-kernel", dir.resolve("vmlinuz").toString(), "-initrd", initrd.toString(),
                "-append", ("console=ttyS0 quiet panic=-1 " + append).strip()));
        cmd.addAll(devices);
        cmd.addAll(extraQemu);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(console.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        return new Running(p, console, initrd, timeout, String.join(" ", cmd));
    }

    /** A booted guest: its QEMU process and console log. Closing it kills QEMU and removes its initramfs copy. */
    public static final class Running implements AutoCloseable {
        private final Process qemu;
        private final Path console;
        private final Path initrd;
        private final long started = System.nanoTime();
        private final long deadline;
        private final String commandLine;

        private Running(Process qemu, Path console, Path initrd, Duration timeout, String commandLine) {
            this.qemu = qemu;
            this.console = console;
            this.initrd = initrd;
            this.deadline = started + timeout.toNanos();
            this.commandLine = commandLine;
        }

        /** The QEMU command line, for failure messages. */
        public String commandLine() {
            return commandLine;
        }

        /** The console output so far. */
        public String console() throws IOException {
            return Files.readString(console, StandardCharsets.ISO_8859_1);
        }

        /** Waits until the console shows {@code text} (true) or QEMU exits or the boot's timeout passes (false). */
        public boolean awaitConsole(String text) throws IOException, InterruptedException {
            while (System.nanoTime() < deadline) {
                if (console().contains(text)) {
                    return true;
                }
                if (!qemu.isAlive()) {
                    return console().contains(text);
                }
                Thread.sleep(50);
            }
            return false;
        }

        /** Waits for QEMU to exit (killing it at the timeout) and returns what the boot produced. */
        public Result await() throws IOException, InterruptedException {
            long left = deadline - System.nanoTime();
            boolean exited = qemu.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS);
            if (!exited) {
                qemu.destroyForcibly().waitFor();
            }
            Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
            String text = console();
            int status = -1;
            Matcher m = EXIT_MARKER.matcher(text);
            while (m.find()) {
                status = Integer.parseInt(m.group(1));
            }
            return new Result(status, exited ? qemu.exitValue() : -1, !exited, text, elapsed);
        }

        @Override
        public void close() throws IOException, InterruptedException {
            if (qemu.isAlive()) {
                qemu.destroyForcibly().waitFor();
            }
            Files.deleteIfExists(initrd);
        }
    }

    /** A newc cpio archive of the given regular files (parent directories added), owned by root. */
    static byte[] cpio(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<String> dirs = new ArrayList<>();
        int ino = 1;
        for (String path : entries.keySet()) {
            for (int i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
                String d = path.substring(0, i);
                if (!dirs.contains(d)) {
                    dirs.add(d);
                    cpioEntry(out, ino++, d, 0040755, new byte[0]);
                }
            }
        }
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            cpioEntry(out, ino++, e.getKey(), 0100755, e.getValue());
        }
        cpioEntry(out, ino, "TRAILER!!!", 0, new byte[0]);
        return out.toByteArray();
    }

    private static void cpioEntry(ByteArrayOutputStream out, int ino, String name, int mode, byte[] data)
            throws IOException {
        byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.UTF_8);
        int[] fields = {ino, mode, 0, 0, (mode & 0040000) != 0 ? 2 : 1, 0, data.length, 0, 0, 0, 0,
                nameBytes.length, 0};
        StringBuilder h = new StringBuilder("070701");
        for (int f : fields) {
            h.append(String.format("%08x", f));
        }
        out.write(h.toString().getBytes(StandardCharsets.US_ASCII));
        out.write(nameBytes);
        pad4(out);
        out.write(data);
        pad4(out);
    }

    private static void pad4(ByteArrayOutputStream out) {
        while (out.size() % 4 != 0) {
            out.write(0);
        }
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(b)) {
            gz.write(data);
        }
        return b.toByteArray();
    }

    /** QEMU's option syntax: a comma inside a value is written twice. */
    private static String qemuQuote(String value) {
        return value.replace(",", ",,");
    }

    private static String opt(String options) {
        return options == null || options.isBlank() ? "" : "," + options;
    }

    /** The repository root: the isthmus.root system property (set by the build), else the parent of the cwd. */
    private static Path repositoryRoot() {
        String r = System.getProperty("isthmus.root");
        return r != null && !r.isBlank() ? Path.of(r) : Path.of("").toAbsolutePath().getParent();
    }
}
