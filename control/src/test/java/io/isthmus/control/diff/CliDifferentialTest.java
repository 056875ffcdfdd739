package io.isthmus.control.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

/**
 * Command lines against qemu-storage-daemon and Isthmus ({@code diff/command-lines.txt}): exit status
 * and stderr must match, with {@code qemu-storage-daemon} read as {@code isthmus}. Also the pid file
 * lock (each refuses a pid file the other holds) and --daemonize.
 */
@Timeout(120)
class CliDifferentialTest {
    record Outcome(int status, String stderr) {
    }

    static Outcome run(DaemonUnderTest.Kind kind, List<String> args, Path dir) throws Exception {
        List<String> cmd = DaemonUnderTest.command(kind);
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        Process p = start(cmd, args, dir, err);
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            return new Outcome(-1, "<<still running>>");
        }
        return new Outcome(p.exitValue(), stderrText(err, dir));
    }

    /** Starts {@code cmd} + {@code args} (DIR replaced) with stdin from /dev/null, stdout discarded, stderr to err. */
    private static Process start(List<String> cmd, List<String> args, Path dir, Path err) throws IOException {
        for (String a : args) {
            cmd.add(a.replace("DIR", dir.toString()));
        }
        return new ProcessBuilder(cmd).redirectError(err.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    }

    /** A daemon's stderr with the daemon's name and the test directory masked, so both daemons compare. */
    private static String stderrText(Path err, Path dir) throws IOException {
        return Files.readString(err, StandardCharsets.UTF_8)
                .replace("qemu-storage-daemon", "isthmus").replace(dir.toString(), "DIR");
    }

    /**
     * One case of command-lines.txt: the command line and the directives written above it, which apply to it
     * only: {@code @setup CMD} (run in the daemon's directory first, must succeed), {@code @inherit MODE} (the
     * daemon inherits a socket from with-inherited-socket.py; {@code {fd}} in the line is its number) and
     * {@code @probe CMD} (run once the daemon has started; its exit status and stdout are compared). A line with
     * {@code --pidfile DIR/...} is expected to start: once the pid file is written the probe runs and the daemon
     * gets SIGTERM, and its exit status and stderr are compared as for a line that fails.
     */
    record Case(String line, List<String> setup, String inherit, String probe) {
    }

    /** A case's outcome: the daemon's, and the probe's (null when the daemon did not start). */
    record Result(Outcome daemon, Outcome probe) {
    }

    static List<Case> cases() throws IOException {
        List<Case> cases = new ArrayList<>();
        List<String> setup = new ArrayList<>();
        String inherit = null;
        String probe = null;
        for (String l : Files.readAllLines(DiffSupport.dataDir().resolve("command-lines.txt"))) {
            if (l.isBlank() || l.startsWith("#")) {
                continue;
            }
            String t = l.strip();
            if (t.startsWith("@setup ")) {
                setup.add(t.substring(7).trim());
            } else if (t.startsWith("@inherit ")) {
                inherit = t.substring(9).trim();
            } else if (t.startsWith("@probe ")) {
                probe = t.substring(7).trim();
            } else if (t.startsWith("@")) {
                throw new IOException("command-lines.txt: unknown directive " + t);
            } else {
                cases.add(new Case(t, List.copyOf(setup), inherit, probe));
                setup.clear();
                inherit = null;
                probe = null;
            }
        }
        return cases;
    }

    static Result run(DaemonUnderTest.Kind kind, Case c, Path dir) throws Exception {
        DaemonUnderTest.runSetup(c.setup(), dir);
        List<String> args = Arrays.asList(c.line().split(" "));
        Path pidFile = null;
        int pi = args.indexOf("--pidfile");
        if (pi >= 0 && pi + 1 < args.size() && args.get(pi + 1).startsWith("DIR/")) {
            pidFile = Path.of(args.get(pi + 1).replace("DIR", dir.toString()));
        }
        List<String> cmd = new ArrayList<>();
        if (c.inherit() != null) {
            cmd.addAll(List.of("/usr/bin/python3", DiffSupport.dataDir().resolve("with-inherited-socket.py").toString(),
                    c.inherit(), dir.toString(), "--"));
        }
        cmd.addAll(DaemonUnderTest.command(kind));
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        Process p = start(cmd, args, dir, err);
        Outcome probe = null;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            boolean started = false;
            while (pidFile != null && p.isAlive() && System.nanoTime() < deadline) {
                if (Files.exists(pidFile) && Files.readString(pidFile).endsWith("\n")) {
                    started = true;
                    break;
                }
                Thread.sleep(10);
            }
            if (started) {
                probe = c.probe() == null ? new Outcome(0, "") : probe(c.probe(), dir);
                p.destroy();
            }
            if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                p.destroyForcibly().waitFor();
                return new Result(new Outcome(-1, "<<still running>>"), probe);
            }
        } finally {
            p.destroyForcibly();
        }
        return new Result(new Outcome(p.exitValue(), stderrText(err, dir)), probe);
    }

    /** Runs a probe command (DIR replaced): its exit status and its stdout and stderr together, DIR masked. */
    private static Outcome probe(String line, Path dir) throws Exception {
        List<String> cmd = new ArrayList<>();
        for (String w : line.split("\\s+")) {
            cmd.add(w.replace("DIR", dir.toString()));
        }
        Path out = Files.createTempFile(dir, "probe", ".txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            return new Outcome(-1, "<<probe still running>>");
        }
        return new Outcome(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8).replace(dir.toString(), "DIR"));
    }

    @TestFactory
    Stream<DynamicTest> commandLines() throws IOException {
        assumeTrue(DiffSupport.integrationEnabled(), "integration tests disabled (isthmus.it=false)");
        assumeTrue(DaemonUnderTest.qsdAvailable(), "qemu-storage-daemon is not installed");
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.line(), () -> {
            Path dq = Files.createTempDirectory("isthmus-cli-q");
            Path di = Files.createTempDirectory("isthmus-cli-i");
            try {
                Result q = run(DaemonUnderTest.Kind.QSD, c, dq);
                Result i = run(DaemonUnderTest.Kind.ISTHMUS, c, di);
                String why = DiffSupport.knownDifferences().allowed("command-lines.txt", c.line());
                if (why == null) {
                    assertEquals(q, i, c.line());
                }
            } finally {
                DaemonUnderTest.deleteTree(dq);
                DaemonUnderTest.deleteTree(di);
            }
        }));
    }

    /**
     * {@code --object TYPE,help} for every object type Isthmus registers that QSD 7.2 also has (so the
     * TLS types join as soon as their factories are registered), plus the spellings of the request:
     * stdout and exit status must match.
     */
    @TestFactory
    Stream<DynamicTest> objectHelp() {
        assumeTrue(DiffSupport.integrationEnabled(), "integration tests disabled (isthmus.it=false)");
        assumeTrue(DaemonUnderTest.qsdAvailable(), "qemu-storage-daemon is not installed");
        java.util.Set<String> types = io.isthmus.control.Daemon.create(io.isthmus.control.qapi.QapiSchema.load())
                .objectTypes().names();
        List<String> args = new ArrayList<>();
        for (String t : types) {
            if (!t.equals("authz-listfile")) { // QSD 7.2 names this class authz-list-file (known-differences.txt)
                args.add(t + ",help");
            }
        }
        args.addAll(List.of("iothread,?", "iothread,id=x,help", "qom-type=secret,help", "secret,id=s,format=raw,help"));
        return args.stream().map(a -> DynamicTest.dynamicTest("--object " + a, () -> {
            Path dir = Files.createTempDirectory("isthmus-objhelp");
            try {
                Outcome q = runStdout(DaemonUnderTest.Kind.QSD, List.of("--object", a), dir);
                Outcome i = runStdout(DaemonUnderTest.Kind.ISTHMUS, List.of("--object", a), dir);
                assertEquals(q, i, a);
            } finally {
                DaemonUnderTest.deleteTree(dir);
            }
        }));
    }

    /** Like {@link #run}, but the outcome holds stdout (stderr must be empty). */
    static Outcome runStdout(DaemonUnderTest.Kind kind, List<String> args, Path dir) throws Exception {
        List<String> cmd = DaemonUnderTest.command(kind);
        cmd.addAll(args);
        Path out = Files.createTempFile(dir, "stdout", ".txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectErrorStream(false)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            return new Outcome(-1, "<<still running>>");
        }
        return new Outcome(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    }

    @Test
    void pidfileLockIsSharedWithQsd() throws Exception {
        assumeTrue(DiffSupport.integrationEnabled() && DaemonUnderTest.qsdAvailable(), "needs qemu-storage-daemon");
        Path dir = Files.createTempDirectory("isthmus-pid");
        try {
            for (DaemonUnderTest.Kind holder : DaemonUnderTest.Kind.values()) {
                DaemonUnderTest.Kind other = holder == DaemonUnderTest.Kind.QSD
                        ? DaemonUnderTest.Kind.ISTHMUS : DaemonUnderTest.Kind.QSD;
                List<String> args = List.of("--chardev", "socket,id=m,path=DIR/qmp.sock,server=on,wait=off",
                        "--monitor", "m", "--pidfile", "DIR/daemon.pid");
                try (DaemonUnderTest d = DaemonUnderTest.start(holder, args)) {
                    d.awaitSocket("qmp.sock", 15000);
                    Path pid = d.dir.resolve("daemon.pid");
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (!(Files.exists(pid) && Files.readString(pid).endsWith("\n")) && System.nanoTime() < deadline) {
                        Thread.sleep(10);
                    }
                    assertEquals(d.process.pid() + "\n", Files.readString(pid), holder + " writes its pid");
                    Outcome o = run(other, List.of("--pidfile", pid.toString()), dir);
                    assertEquals(new Outcome(1,
                            "isthmus: cannot create PID file: Cannot lock pid file: Resource temporarily unavailable\n"), o,
                            other + " refuses the pid file " + holder + " holds");
                    d.process.destroy();
                    assertTrue(d.process.waitFor(10, TimeUnit.SECONDS));
                    assertEquals(0, d.process.exitValue(), "SIGTERM exits with status 0");
                    assertTrue(!Files.exists(pid), holder + " removes its pid file on exit");
                }
            }
        } finally {
            DaemonUnderTest.deleteTree(dir);
        }
    }

    @Test
    void daemonizeReturnsWhenReadyOrFailed() throws Exception {
        assumeTrue(DiffSupport.integrationEnabled(), "integration tests disabled (isthmus.it=false)");
        Path dir = Files.createTempDirectory("isthmus-daemonize");
        try {
            Outcome fail = run(DaemonUnderTest.Kind.ISTHMUS, List.of("--daemonize", "--object", "nosuch,id=x"), dir);
            assertEquals(new Outcome(1, "isthmus: --object nosuch,id=x: Parameter 'qom-type' does not accept value 'nosuch'\n"),
                    fail);
            Outcome ok = run(DaemonUnderTest.Kind.ISTHMUS, List.of("--daemonize",
                    "--chardev", "socket,id=m,path=DIR/qmp.sock,server=on,wait=off", "--monitor", "m",
                    "--pidfile", "DIR/d.pid"), dir);
            assertEquals(new Outcome(0, ""), ok);
            Path pidFile = dir.resolve("d.pid");
            assertTrue(Files.exists(pidFile), "ready means the pid file is written");
            long pid = Long.parseLong(Files.readString(pidFile).strip());
            ProcessHandle h = ProcessHandle.of(pid).orElseThrow();
            try (QmpTestClient c = new QmpTestClient(dir.resolve("qmp.sock"))) {
                String greeting = c.readMessage(5000);
                assertTrue(greeting != null && greeting.startsWith("{\"QMP\": "), greeting);
                c.send("{\"execute\": \"qmp_capabilities\"}{\"execute\": \"quit\"}");
                assertEquals(List.of("{\"return\": {}}\r\n", "{\"return\": {}}\r\n"), c.readToEnd(5000));
            }
            h.onExit().get(10, TimeUnit.SECONDS);
            assertTrue(!Files.exists(pidFile), "pid file removed on quit");
        } finally {
            DaemonUnderTest.deleteTree(dir);
        }
    }
}
