package io.isthmus.control;

import io.isthmus.control.cli.Daemonizer;
import io.isthmus.control.cli.Getopt;
import io.isthmus.control.cli.HelpText;
import java.util.List;

/**
 * The isthmus command: qemu-storage-daemon's command line. A first pass handles --help, --version,
 * --daemonize, --pidfile and usage errors in order; the second ({@link DaemonRunner}) builds the daemon, applies
 * the options one by one, writes the pid file, and runs the control loop until quit or a signal.
 */
public final class Main {
    /** argv[0] as invoked ({@link ProgName}); getopt's messages use it whole, as glibc's do. */
    static final String ARGV0 = ProgName.ARGV0;
    /** The program name in messages ({@link ProgName#NAME}). */
    static final String PROG = ProgName.NAME;

    private Main() {
    }

    public static void main(String[] args) {
        preferDefaultSelectorProvider();
        nameProcess();
        System.exit(run(args));
    }

    /**
     * Start-up: the first NIO socket asks {@code SelectorProvider} for its provider, which without this
     * property searches every jar on the class path for a service entry, opening all of them (measured when
     * BouncyCastle's 9 MB jar was still on it: ~30-50 ms and ~1 MB of resident zip index before the greeting). Naming the
     * JDK's own default provider skips the search; the documented property is only set when that class
     * exists in this JDK and nobody chose another provider.
     */
    static void preferDefaultSelectorProvider() {
        String key = "java.nio.channels.spi.SelectorProvider";
        String cls = "sun.nio.ch.EPollSelectorProvider";
        if (System.getProperty(key) != null) {
            return;
        }
        try {
            Class.forName(cls, false, ClassLoader.getPlatformClassLoader());
            System.setProperty(key, cls);
        } catch (ClassNotFoundException | LinkageError e) {
            // another JDK layout: keep the default lookup
        }
    }

    /**
     * Installed under another name, the process's comm (what ps, top and pgrep show) is that name, as for
     * QSD's binary, instead of the JVM's "java": /proc/self/comm is the main thread's, which any thread of
     * the process may write (truncated by the kernel to 15 bytes).
     */
    static void nameProcess() {
        if (System.getProperty("isthmus.argv0") == null) {
            return;
        }
        try {
            java.nio.file.Files.writeString(java.nio.file.Path.of("/proc/self/comm"), PROG);
        } catch (java.io.IOException | RuntimeException e) {
            // cosmetic only
        }
    }

    static int run(String[] args) {
        List<Getopt.Item> items = Getopt.parse(ARGV0, args);
        boolean daemonize = false;
        boolean demo = false;
        String pidfile = null;
        for (Getopt.Item item : items) {
            if (item.error() != null) {
                System.err.println(item.error());
                return 1;
            }
            if (item.opt() == null) {
                continue; // a stray argument is an error of the second pass, in order (as in QSD)
            }
            switch (item.opt()) {
                case HELP -> {
                    System.out.print(HelpText.help(PROG));
                    return 0;
                }
                case VERSION -> {
                    System.out.print(HelpText.version());
                    return 0;
                }
                case DAEMONIZE -> daemonize = true;
                case PIDFILE -> pidfile = item.arg();
                case DEMO -> demo = true;
                default -> {
                }
            }
        }
        if (demo) {
            if (items.size() != 1) {
                System.err.println(PROG + ": --demo takes no other option");
                return 1;
            }
            return Demo.run(PROG);
        }
        boolean child = daemonize && Daemonizer.isChild();
        if (daemonize && !child) {
            return Daemonizer.runParent(PROG, Main.class.getName(), args);
        }
        return DaemonRunner.run(PROG, items, pidfile, daemonize, null, null);
    }
}
