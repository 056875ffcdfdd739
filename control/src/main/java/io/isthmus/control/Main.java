package io.isthmus.control;

import io.isthmus.control.cli.Daemonizer;
import io.isthmus.control.cli.Getopt;
import io.isthmus.control.cli.HelpText;
import io.isthmus.control.cli.OptionError;
import io.isthmus.control.cli.Pidfile;
import io.isthmus.control.cli.StartupOptions;
import io.isthmus.control.qapi.QapiSchema;
import java.io.IOException;
import java.util.List;

/**
 * The isthmus command: qemu-storage-daemon's command line. A first pass handles --help, --version,
 * --daemonize, --pidfile and usage errors in order; the second builds the daemon, option by option;
 * then the pid file is written, and the control loop runs until quit or a signal.
 */
public final class Main {
    static final String PROG = "isthmus";

    private Main() {
    }

    public static void main(String[] args) {
        preferDefaultSelectorProvider();
        System.exit(run(args));
    }

    /**
     * Start-up: the first NIO socket asks {@code SelectorProvider} for its provider, which without this
     * property searches every jar on the class path for a service entry, opening all of them (BouncyCastle's
     * 9 MB jar included: ~30-50 ms and ~1 MB of resident zip index before the greeting). Naming the
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

    static int run(String[] args) {
        List<Getopt.Item> items = Getopt.parse(PROG, args);
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
            return Demo.run();
        }
        boolean child = daemonize && Daemonizer.isChild();
        if (daemonize && !child) {
            return Daemonizer.runParent(Main.class.getName(), args);
        }
        return runDaemon(items, pidfile, daemonize, null, null);
    }

    /**
     * Builds and runs the daemon. {@code afterStartup} (may be null) runs on the control thread once
     * the options are applied; {@code atExit} (may be null) after the daemon shut down. Returns the
     * exit status.
     */
    static int runDaemon(List<Getopt.Item> items, String pidfile, boolean daemonize,
                         java.util.function.Consumer<Daemon> afterStartup, Runnable atExit) {
        QapiSchema schema = QapiSchema.load();
        Daemon[] holder = new Daemon[1];
        Daemon daemon = new Daemon(schema, () -> holder[0].loop().stop());
        holder[0] = daemon;
        daemon.loop().bindCurrentThread();
        Signals.install(daemon);
        try {
            new StartupOptions(daemon, PROG, System.err, daemonize).apply(items);
        } catch (OptionError e) {
            System.err.println(e.format(PROG));
            return 1;
        } catch (StartupOptions.HelpPrinted e) {
            return 0;
        }
        Pidfile pid = null;
        if (pidfile != null) {
            try {
                pid = Pidfile.write(pidfile);
            } catch (IOException e) {
                System.err.println(PROG + ": cannot create PID file: " + e.getMessage());
                return 1;
            }
        }
        if (afterStartup != null) {
            afterStartup.accept(daemon);
        }
        if (daemonize) {
            Daemonizer.signalReadyAndDetach();
        }
        daemon.loop().run();
        daemon.finishShutdown();
        if (pid != null) {
            pid.close();
        }
        if (atExit != null) {
            atExit.run();
        }
        return 0;
    }
}
