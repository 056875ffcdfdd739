package io.isthmus.control.cli;

import io.isthmus.engine.net.Fds;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --daemonize} for a JVM, which cannot fork: the parent starts the same command line again as a
 * child in a new session ({@code setsid}), with stdin from /dev/null and stdout/stderr as pipes, and
 * waits. The child runs the daemon; once start-up succeeded it writes one readiness byte on stdout and
 * detaches from both pipes. The parent then exits 0; if the child exits first, the parent forwards the
 * child's error text and exits 1 — so the parent returns only when the daemon is ready or has failed.
 *
 * <p>Inherited file descriptors other than 0-2 do not reach the child (the JDK closes them when it
 * spawns a process), so {@code --daemonize} cannot be combined with {@code fd=} sockets.
 */
public final class Daemonizer {
    /** Set in the child's environment. */
    public static final String CHILD_ENV = "ISTHMUS_DAEMONIZED_CHILD";
    private static final int READY = 'R';

    private Daemonizer() {
    }

    public static boolean isChild() {
        return "1".equals(System.getenv(CHILD_ENV));
    }

    /** The parent's side: returns the exit status for the parent. */
    public static int runParent(String mainClass, String[] args) {
        List<String> cmd = new ArrayList<>();
        if (new File("/usr/bin/setsid").canExecute()) {
            cmd.add("/usr/bin/setsid");
        }
        cmd.add(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"));
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        for (String a : args) {
            cmd.add(a);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put(CHILD_ENV, "1");
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            System.err.println("isthmus: cannot start the daemon process: " + e.getMessage());
            return 1;
        }
        Thread errCopy = new Thread(() -> copy(p.getErrorStream(), System.err), "daemonize-stderr");
        errCopy.setDaemon(true);
        errCopy.start();
        int b;
        try {
            b = p.getInputStream().read();
        } catch (IOException e) {
            b = -1;
        }
        if (b == READY) {
            joinQuietly(errCopy, 2000);
            return 0;
        }
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        joinQuietly(errCopy, 2000);
        return 1;
    }

    /** The child's side, once start-up succeeded: tells the parent and lets go of its pipes. */
    public static void signalReadyAndDetach() {
        try {
            OutputStream out = new FileOutputStream(FileDescriptor.out);
            out.write(READY);
            out.flush();
        } catch (IOException e) {
            // the parent is gone; nothing to tell
        }
        System.err.flush();
        // fd 1 and 2 become /dev/null (the parent's pipes are released; nothing writes into a dead pipe)
        Fds.redirectToDevNull(1, 2);
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        System.setErr(new PrintStream(OutputStream.nullOutputStream()));
    }

    private static void copy(InputStream in, PrintStream out) {
        byte[] buf = new byte[4096];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException ignored) {
            // child closed its stderr
        }
    }

    private static void joinQuietly(Thread t, long ms) {
        try {
            t.join(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
