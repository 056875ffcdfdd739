package io.isthmus.control.diff;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A storage daemon process for the differential tests: qemu-storage-daemon or Isthmus (a child JVM
 * on the test class path, started exactly as bin/isthmus starts it, minus the launcher), each in a
 * private temporary directory. {@link #close} kills the process and removes the directory.
 */
public final class DaemonUnderTest implements AutoCloseable {
    public enum Kind { QSD, ISTHMUS }

    final Kind kind;
    final Path dir;
    final Process process;
    final Path stderrFile;

    private DaemonUnderTest(Kind kind, Path dir, Process process, Path stderrFile) {
        this.kind = kind;
        this.dir = dir;
        this.process = process;
        this.stderrFile = stderrFile;
    }

    static boolean qsdAvailable() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (new File(d, "qemu-storage-daemon").canExecute()) {
                return true;
            }
        }
        return false;
    }

    /** The command that runs this kind of daemon, before its options (also used by the e2e tests). */
    public static List<String> command(Kind kind) {
        List<String> cmd = new ArrayList<>();
        if (kind == Kind.QSD) {
            cmd.add("qemu-storage-daemon");
        } else {
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.add("--enable-native-access=ALL-UNNAMED");
            cmd.add("-XX:+UseSerialGC");
            cmd.add("-XX:TieredStopAtLevel=1");
            cmd.add("-Xshare:auto");
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add("io.isthmus.control.Main");
        }
        return cmd;
    }

    /** Starts the daemon; {@code DIR} in args is replaced by its private directory. */
    static DaemonUnderTest start(Kind kind, List<String> args) throws IOException {
        return start(kind, args, List.of());
    }

    /**
     * Starts the daemon after running the setup commands (words separated by spaces, {@code DIR} replaced) in
     * its private directory, each of which must succeed.
     */
    static DaemonUnderTest start(Kind kind, List<String> args, List<String> setup) throws IOException {
        Path dir = Files.createTempDirectory("isthmus-diff-" + kind.name().toLowerCase() + "-");
        try {
            runSetup(setup, dir);
        } catch (IOException | RuntimeException e) {
            deleteTree(dir);
            throw e;
        }
        List<String> cmd = command(kind);
        for (String a : args) {
            cmd.add(a.replace("DIR", dir.toString()));
        }
        Path err = dir.resolve("stderr.txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile())
                .redirectOutput(dir.resolve("stdout.txt").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        return new DaemonUnderTest(kind, dir, pb.start(), err);
    }

    /** Runs each setup command in {@code dir} (DIR replaced by it); a failure or a hang is an IOException. */
    static void runSetup(List<String> setup, Path dir) throws IOException {
        for (String line : setup) {
            List<String> cmd = new ArrayList<>();
            for (String w : line.trim().split("\\s+")) {
                cmd.add(w.replace("DIR", dir.toString()));
            }
            Path out = dir.resolve("setup-output.txt");
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            try {
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                    throw new IOException("setup command hangs: " + line);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted: " + line, e);
            }
            if (p.exitValue() != 0) {
                throw new IOException("setup command failed (" + p.exitValue() + "): " + line + "\n" + Files.readString(out));
            }
            Files.delete(out);
        }
    }

    String stderr() {
        try {
            return Files.readString(stderrFile);
        } catch (IOException e) {
            return "";
        }
    }

    /** Waits for a UNIX socket file to appear (the daemon is listening). */
    Path awaitSocket(String name, long timeoutMs) throws IOException, InterruptedException {
        Path p = dir.resolve(name);
        awaitFile(process, kind.toString(), p, timeoutMs, this::stderr);
        return p;
    }

    /** Waits until a daemon under test creates {@code p}; fails with its stderr if it exits or takes too long. */
    public static void awaitFile(Process process, String kind, Path p, long timeoutMs,
                                 java.util.function.Supplier<String> stderr) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!Files.exists(p)) {
            if (!process.isAlive()) {
                throw new IOException(kind + " exited with " + process.exitValue() + ": " + stderr.get());
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(kind + " did not create " + p + " in time: " + stderr.get());
            }
            Thread.sleep(5);
        }
    }

    /** Stops a daemon under test: SIGTERM, then SIGKILL after 5 s. */
    public static void stop(Process process) {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop(process);
        deleteTree(dir);
    }

    static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
