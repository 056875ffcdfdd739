package io.isthmus.control;

import io.isthmus.control.cli.Daemonizer;
import io.isthmus.control.cli.Getopt;
import io.isthmus.control.cli.OptionError;
import io.isthmus.control.cli.Pidfile;
import io.isthmus.control.cli.StartupOptions;
import io.isthmus.control.qapi.QapiSchema;
import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;

/**
 * A daemon's life on the calling thread, which becomes the control thread: build it ({@link Daemon#create}),
 * apply the command line's options in order, write the pid file, run the control loop until quit or a signal,
 * then finish the shutdown. Used by {@link Main}, {@link Demo} and {@link StartupTraining}.
 */
final class DaemonRunner {
    private DaemonRunner() {
    }

    /**
     * Builds and runs the daemon. {@code afterStartup} (may be null) runs on the control thread once
     * the options are applied; {@code atExit} (may be null) after the daemon shut down. Returns the
     * exit status.
     *
     * @param prog the program name in messages ({@code isthmus})
     */
    static int run(String prog, List<Getopt.Item> items, String pidfile, boolean daemonize,
                   Consumer<Daemon> afterStartup, Runnable atExit) {
        Daemon daemon = Daemon.create(QapiSchema.load());
        daemon.loop().bindCurrentThread();
        Signals.install(daemon);
        try {
            new StartupOptions(daemon, prog, System.err, daemonize).apply(items);
        } catch (OptionError e) {
            System.err.println(e.format(prog));
            daemon.abandonStartup();
            return 1;
        } catch (StartupOptions.HelpPrinted e) {
            return 0;
        }
        Pidfile pid = null;
        if (pidfile != null) {
            try {
                pid = Pidfile.write(pidfile);
            } catch (IOException e) {
                System.err.println(prog + ": cannot create PID file: " + e.getMessage());
                return 1;
            }
        }
        if (afterStartup != null) {
            afterStartup.accept(daemon);
        }
        if (daemonize && Daemonizer.signalReadyAndDetach(prog) != 0) {
            if (pid != null) {
                pid.close();
            }
            return 1; // QEMU's os_setup_post() exits 1 here
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
