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
        for (String a : args) {
            cmd.add(a.replace("DIR", dir.toString()));
        }
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            return new Outcome(-1, "<<still running>>");
        }
        String text = Files.readString(err, StandardCharsets.UTF_8)
                .replace("qemu-storage-daemon", "isthmus").replace(dir.toString(), "DIR");
        return new Outcome(p.exitValue(), text);
    }

    @TestFactory
    Stream<DynamicTest> commandLines() throws IOException {
        assumeTrue(DiffSupport.integrationEnabled(), "integration tests disabled (isthmus.it=false)");
        assumeTrue(DaemonUnderTest.qsdAvailable(), "qemu-storage-daemon is not installed");
        List<String> lines = new ArrayList<>();
        for (String l : Files.readAllLines(DiffSupport.dataDir().resolve("command-lines.txt"))) {
            if (!l.isBlank() && !l.startsWith("#")) {
                lines.add(l.strip());
            }
        }
        return lines.stream().map(line -> DynamicTest.dynamicTest(line, () -> {
            List<String> args = Arrays.asList(line.split(" "));
            Path dq = Files.createTempDirectory("isthmus-cli-q");
            Path di = Files.createTempDirectory("isthmus-cli-i");
            try {
                Outcome q = run(DaemonUnderTest.Kind.QSD, args, dq);
                Outcome i = run(DaemonUnderTest.Kind.ISTHMUS, args, di);
                String why = DiffSupport.knownDifferences().allowed("command-lines.txt", line);
                if (why == null) {
                    assertEquals(q, i, line);
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
        java.util.Set<String> types = new io.isthmus.control.Daemon(io.isthmus.control.qapi.QapiSchema.load(), () -> { })
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
