package io.isthmus.control.commands;

import io.isthmus.control.commands.qom.IothreadObject;
import io.isthmus.control.commands.qom.ObjectRegistry;
import io.isthmus.engine.loop.IoThread;

/**
 * The IoThreads exports and the NBD server run on: those of the iothread objects exports name, and a default one
 * (QSD's main loop, for exports without {@code iothread} and for the NBD listener), started on first use and
 * stopped by {@link #close} at the end of the shutdown.
 *
 * <p>Threads: the control thread (the start and the stop are synchronized all the same: they are rare, and then
 * no caller on another thread can ever see a half-started default thread).
 */
public final class ExportIoThreads {
    private final ObjectRegistry objects;
    private IoThread defaultThread;

    public ExportIoThreads(ObjectRegistry objects) {
        this.objects = objects;
    }

    /** The IoThread of iothread object {@code id}; null when there is no such object. */
    public IoThread named(String id) {
        IothreadObject o = objects.get(id, IothreadObject.class);
        return o == null ? null : o.ioThread();
    }

    /** The default IoThread, started on the first call. */
    public synchronized IoThread defaultThread() {
        if (defaultThread == null) {
            defaultThread = IoThread.start("main-loop");
        }
        return defaultThread;
    }

    /** Stops the default IoThread if it was started (shutdown, after the exports and objects are gone). */
    public synchronized void close() {
        if (defaultThread != null) {
            defaultThread.close();
        }
    }
}
