package io.isthmus.control;

import sun.misc.Signal;

/**
 * SIGINT, SIGTERM and SIGHUP ask the daemon to shut down cleanly, exit status 0, as QSD does. The
 * handler only posts a task to the control thread, which runs the same shutdown as {@code quit}.
 */
final class Signals {
    private Signals() {
    }

    static void install(Daemon daemon) {
        for (String name : new String[] {"INT", "TERM", "HUP"}) {
            try {
                Signal.handle(new Signal(name), sig -> daemon.loop().post(daemon::requestShutdown));
            } catch (IllegalArgumentException e) {
                // signal reserved by the JVM (e.g. with -Xrs): leave its default
            }
        }
    }
}
