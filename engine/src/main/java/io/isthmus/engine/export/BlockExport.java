package io.isthmus.engine.export;

import io.isthmus.engine.loop.IoThread;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * State shared by every export type: id, node access, writability, IoThreads, the reference count and the
 * shutting-down flag (QEMU's BlockExport). The export itself holds one reference while the user owns it; each
 * client connection, queue or in-flight operation that must finish before the export may go holds another.
 * When the count reaches zero the export is deleted: the driver's {@link #delete} runs, the node is detached,
 * the export leaves the table and {@link ExportListener#exportDeleted} fires.
 *
 * <p>Clients: a driver admits each client (connection, queue) with {@link #admitClient}, which takes its reference
 * and registers it in the driver's own set under the same lock as the shutdown request: a client is either
 * refused (the export is shutting down) or in the set {@link #requestShutdown} walks, never in between.
 *
 * <p>Threads: {@link #ref}/{@link #unref} and {@link #admitClient} from any thread; the rest belongs to the control
 * plane.
 */
public abstract class BlockExport {
    private final String id;
    private final String type;
    private final NodeAccess node;
    private final boolean writable;
    private final boolean writethrough;
    private final IoThread[] iothreads;
    private final AtomicInteger refcount = new AtomicInteger(1);
    /** Cleared once, under {@link #admission}, when a delete is requested (QEMU: user_owned). */
    private volatile boolean userOwned = true;
    private final Object admission = new Object();
    private ExportManager manager;

    protected BlockExport(ExportOptions options, NodeAccess node, IoThread[] iothreads) {
        this.id = options.id();
        this.type = options.type();
        this.node = node;
        this.writable = options.writable();
        this.writethrough = options.writethrough();
        this.iothreads = iothreads;
    }

    public final String id() {
        return id;
    }

    public final String type() {
        return type;
    }

    public final NodeAccess node() {
        return node;
    }

    public final String nodeName() {
        return node.nodeName();
    }

    public final boolean writable() {
        return writable;
    }

    /** Flush after every write (QEMU: the write cache disabled). */
    public final boolean writethrough() {
        return writethrough;
    }

    /** The IoThreads this export's connections or queues are spread over (never empty). */
    public final IoThread[] iothreads() {
        return iothreads;
    }

    /** True once a delete was requested (QEMU: !user_owned). */
    public final boolean shuttingDown() {
        return !userOwned;
    }

    public final int refcount() {
        return refcount.get();
    }

    void setManager(ExportManager m) {
        this.manager = m;
    }

    /** Takes a reference (a client connection, a request that must finish before the export goes). */
    public final void ref() {
        int r = refcount.getAndIncrement();
        if (r <= 0) {
            throw new IllegalStateException("export " + id + " referenced after deletion");
        }
    }

    /** Drops a reference; the last one deletes the export. */
    public final void unref() {
        int r = refcount.decrementAndGet();
        if (r == 0) {
            ExportManager m = manager;
            if (m != null) {
                m.gone(this);
            } else {
                delete();
                node.detach();
            }
        } else if (r < 0) {
            throw new IllegalStateException("export " + id + " unreferenced too often");
        }
    }

    /**
     * Admits a client unless the export is shutting down: takes a reference for it (dropped with {@link #unref}
     * when the client goes) and runs {@code register} (adding it to the set {@link #requestShutdown} walks), both
     * under the lock the shutdown request takes. Returns false, having done nothing, once a delete was requested.
     * Any thread (a connection's IoThread).
     */
    protected final boolean admitClient(Runnable register) {
        synchronized (admission) {
            if (!userOwned) {
                return false;
            }
            ref();
            register.run();
            return true;
        }
    }

    /** Called once by the manager when the user deletes the export (QEMU's blk_exp_request_shutdown). */
    final void requestShutdownOnce() {
        synchronized (admission) {
            if (!userOwned) {
                return;
            }
            userOwned = false; // from here on no client is admitted: requestShutdown sees every admitted one
        }
        requestShutdown();
        unref();
    }

    /**
     * Drops every client / stops serving, so the references held for them go away (mode=hard, server stop,
     * daemon exit). Called once, on the control plane, after admission stopped ({@link #shuttingDown} is true); the
     * export may stay alive until the last reference is dropped.
     */
    protected abstract void requestShutdown();

    /** Frees what the export owns after the last reference (listeners, sockets, buffers). */
    protected abstract void delete();
}
