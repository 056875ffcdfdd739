package io.isthmus.control.cli;

import io.isthmus.engine.net.Fds;
import java.io.File;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --daemonize} as QEMU's os_daemonize()/os_setup_post() do it, for a JVM, which cannot fork: the
 * parent starts the same JVM command line again through {@code setsid bash -c '... &'}. setsid(1) puts
 * bash in a new session; bash sets QEMU's umask (027) and ignores SIGTSTP/SIGTTIN/SIGTTOU, starts the
 * daemon as a background job (the second fork: the daemon is in the new session but not its leader, so
 * it can never gain a controlling terminal) with argv[0] as the caller invoked us ({@code exec -a}), and
 * exits. The daemon's stderr is the caller's (start-up errors reach it directly, as QSD's do); its
 * stdout is a pipe to the parent. Once start-up succeeded (options applied, monitors listening, pid file
 * written) the daemon changes to {@code /}, writes one readiness byte on that pipe and points fds 0-2 at
 * /dev/null. The parent exits 0 on that byte and 1 if the pipe closes without it (the daemon failed) —
 * so it returns only when the daemon is ready or gone.
 *
 * <p>Inherited file descriptors other than 0-2 do not reach the child (the JDK closes them when it
 * spawns a process), so {@code --daemonize} cannot be combined with {@code fd=} sockets.
 * Runs on the main thread at start-up only.
 */
public final class Daemonizer {
    /** Set in the child's environment. */
    public static final String CHILD_ENV = "ISTHMUS_DAEMONIZED_CHILD";
    private static final int READY = 'R';
    /** $0 is the daemon's argv[0], "$@" its command. */
    private static final String SPAWN_SCRIPT =
            "umask 027; trap '' TSTP TTIN TTOU; { trap - INT QUIT; exec -a \"$0\" \"$@\"; } &";

    private Daemonizer() {
    }

    public static boolean isChild() {
        return "1".equals(System.getenv(CHILD_ENV));
    }

    /** The parent's side: returns the exit status for the parent. */
    public static int runParent(String prog, String mainClass, String[] args) {
        String javaCmd = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        List<String> cmd = new ArrayList<>();
        if (new File("/usr/bin/setsid").canExecute()) {
            cmd.add("/usr/bin/setsid");
        }
        cmd.add(new File("/bin/bash").canExecute() ? "/bin/bash" : "bash");
        cmd.add("-c");
        cmd.add(SPAWN_SCRIPT);
        cmd.add(argv0(javaCmd));
        cmd.add(javaCmd);
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        for (String a : args) {
            cmd.add(a);
        }
        // The readiness pipe is our own, not Process's stdout: the JDK closes a Process's pipes when that
        // process (here the short-lived bash) exits. The child's stdout is opened through /proc.
        int[] ready = new int[2];
        int r = Fds.pipe(ready);
        if (r < 0) {
            System.err.println(prog + ": cannot start the daemon process: " + Fds.message(r));
            return 1;
        }
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put(CHILD_ENV, "1");
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(new File("/proc/self/fd/" + ready[1])));
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        try {
            pb.start();
        } catch (IOException e) {
            System.err.println(prog + ": cannot start the daemon process: " + e.getMessage());
            Fds.close(ready[0]);
            Fds.close(ready[1]);
            return 1;
        }
        Fds.close(ready[1]);
        long n;
        byte b;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocate(1);
            n = Fds.read(ready[0], one, 1);
            b = one.get(ValueLayout.JAVA_BYTE, 0);
        }
        Fds.close(ready[0]);
        return n == 1 && b == READY ? 0 : 1;
    }

    /** This process's argv[0] (what bin/isthmus's {@code exec -a} set), or {@code fallback}. */
    static String argv0(String fallback) {
        try {
            byte[] cmdline = java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/self/cmdline"));
            int n = 0;
            while (n < cmdline.length && cmdline[n] != 0) {
                n++;
            }
            return n == 0 ? fallback : new String(cmdline, 0, n, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            return fallback;
        }
    }

    /**
     * The child's side, once start-up succeeded: changes to {@code /} (relative paths on the command line
     * were resolved before, as in QSD), tells the parent, and lets go of the caller's stdio. Returns 0, or
     * 1 after printing QEMU's message when {@code /} cannot be entered.
     */
    public static int signalReadyAndDetach(String prog) {
        int r = Fds.chdir("/");
        if (r < 0) {
            System.err.println(prog + ": not able to chdir to /: " + Fds.message(r));
            return 1;
        }
        // As os_setup_post(): stdio goes to /dev/null before the parent hears that we are ready, so that
        // when it returns the caller's pipes are no longer held by the daemon (a caller that looks at
        // /proc/PID/fd right after sees /dev/null). fd 1 is the readiness pipe: a duplicate of it carries the
        // byte after fd 1 itself has moved to /dev/null.
        System.err.flush();
        System.out.flush();
        int readyFd = Fds.dup(1);
        Fds.redirectToDevNull(0, 1, 2);
        System.setErr(new PrintStream(OutputStream.nullOutputStream()));
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        if (readyFd >= 0) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment one = a.allocate(1);
                one.set(ValueLayout.JAVA_BYTE, 0, (byte) READY);
                Fds.write(readyFd, one, 1); // a parent that is gone has nothing to hear
            }
            Fds.close(readyFd);
        }
        return 0;
    }
}
