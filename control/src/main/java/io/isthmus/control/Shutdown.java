package io.isthmus.control;

/**
 * The daemon's shutdown request: quit, SIGINT, SIGTERM or SIGHUP. The first request closes the exports (their
 * BLOCK_EXPORT_DELETED events go out before quit's reply, as in QSD 7.2) and stops the control loop; the rest of
 * the shutdown runs after the loop returned ({@link Daemon#finishShutdown}). Later requests do nothing.
 *
 * <p>Control thread only.
 */
final class Shutdown {
    private final ControlLoop loop;
    private final Runnable closeExports;
    private boolean requested;
    private boolean exportsClosed;

    /** @param closeExports the first phase: closes every export and the servers they are reached through */
    Shutdown(ControlLoop loop, Runnable closeExports) {
        this.loop = loop;
        this.closeExports = closeExports;
    }

    /** quit / a signal: closes the exports, then makes the loop return after the task now running. */
    void request() {
        if (requested) {
            return;
        }
        requested = true;
        closeExports();
        loop.stop();
    }

    /** The first phase, once: {@link Daemon#finishShutdown} runs it again, which does nothing after a request. */
    void closeExports() {
        if (!exportsClosed) {
            exportsClosed = true;
            closeExports.run();
        }
    }

    /** Runs one shutdown step; a failing step is reported and the shutdown goes on. */
    static void step(Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            System.err.println(ProgName.NAME + ": shutdown step failed: " + e.getMessage());
        }
    }
}
