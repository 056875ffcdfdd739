package io.isthmus.control.e2e;

import io.isthmus.control.diff.DaemonUnderTest;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A storage daemon under test, started with qemu-storage-daemon's command line: Isthmus as a child JVM
 * on the test class path running {@code io.isthmus.control.Main} (as bin/isthmus runs it, minus the
 * launcher; the same command as the differential tests), or qemu-storage-daemon itself. The test's
 * directory holds its sockets; a QMP monitor on {@code qmp.sock} is always added. {@link #close} kills it.
 */
final class Daemon implements AutoCloseable {
    enum Kind { ISTHMUS, QSD }

    final Kind kind;
    final Process process;
    final Path qmpSocket;
    final Path stderrFile;
    Qmp qmp;

    private Daemon(Kind kind, Process process, Path qmpSocket, Path stderrFile) {
        this.kind = kind;
        this.process = process;
        this.qmpSocket = qmpSocket;
        this.stderrFile = stderrFile;
    }

    static List<String> command(Kind kind) {
        return DaemonUnderTest.command(kind == Kind.QSD ? DaemonUnderTest.Kind.QSD : DaemonUnderTest.Kind.ISTHMUS);
    }

    /**
     * Starts the daemon with the given options plus a monitor on {@code dir/NAME-qmp.sock}, connects QMP,
     * and waits until each of {@code sockets} exists (the NBD server listens).
     */
    static Daemon start(Kind kind, Path dir, List<String> options, Path... sockets)
            throws IOException, InterruptedException {
        String tag = kind.name().toLowerCase();
        Path qmpSock = dir.resolve(tag + "-qmp.sock");
        List<String> cmd = command(kind);
        cmd.addAll(options);
        cmd.addAll(List.of("--chardev", "socket,id=e2emon,path=" + qmpSock + ",server=on,wait=off",
                "--monitor", "chardev=e2emon"));
        Path err = dir.resolve(tag + "-stderr.txt");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile())
                .redirectOutput(dir.resolve(tag + "-stdout.txt").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        Daemon d = new Daemon(kind, p, qmpSock, err);
        try {
            d.qmp = Qmp.connect(qmpSock, p);
            for (Path s : sockets) {
                d.awaitFile(s, 10_000);
            }
        } catch (IOException | RuntimeException | InterruptedException e) {
            String msg = d.stderr();
            d.close();
            throw new IOException(kind + " did not come up: " + e.getMessage() + "\nstderr: " + msg, e);
        }
        return d;
    }

    static Daemon isthmus(Path dir, List<String> options, Path... sockets) throws IOException, InterruptedException {
        return start(Kind.ISTHMUS, dir, options, sockets);
    }

    long pid() {
        return process.pid();
    }

    String stderr() {
        try {
            return Files.readString(stderrFile);
        } catch (IOException e) {
            return "";
        }
    }

    void awaitFile(Path p, long timeoutMs) throws IOException, InterruptedException {
        DaemonUnderTest.awaitFile(process, kind.toString(), p, timeoutMs, this::stderr);
    }

    /** Kills the process (SIGTERM, then SIGKILL after 5 s) and closes the monitor connection. */
    @Override
    public void close() {
        DaemonUnderTest.stop(process);
        if (qmp != null) {
            try {
                qmp.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }
}
