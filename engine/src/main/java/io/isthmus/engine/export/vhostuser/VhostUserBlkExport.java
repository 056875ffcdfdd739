package io.isthmus.engine.export.vhostuser;

import io.isthmus.engine.export.BlockExport;
import io.isthmus.engine.export.ExportOptions;
import io.isthmus.engine.export.NodeAccess;
import io.isthmus.engine.export.NodeListener;
import io.isthmus.engine.loop.IoThread;
import io.isthmus.engine.net.Fds;
import io.isthmus.engine.net.ListeningSocket;
import io.isthmus.engine.net.RingAcceptor;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One vhost-user-blk export: its listening socket and at most one front end at a time ({@link VhostUserSession}),
 * as QSD: the next front end waits in the socket's backlog until the current one disconnects, then the export
 * listens again. The session (the vhost-user control socket) runs on the export's first IoThread; queue
 * {@code i} is served by IoThread {@code i mod n} of the export's list.
 *
 * <p>A connected front end holds a reference ({@link #admitClient}), so a safe block-export-del refuses with
 * "export 'id' still in use" while a guest is attached (QSD 7.2 disconnects it); a hard delete ends the session:
 * the queues stop once their in-flight requests are done, guest memory is unmapped, the reference is dropped.
 *
 * <p>Node events ({@link NodeListener}) arrive on the control thread and are posted to the session thread: a length
 * change updates the capacity (at once, for requests) and sends the front end a config-change message; a drained
 * section pauses the queues (requests in flight complete; none are taken until it ends).
 *
 * <p>Threads: constructed and shut down on the control thread; the acceptor and the session on the session thread.
 */
final class VhostUserBlkExport extends BlockExport implements NodeListener, RingAcceptor.Handler {
    private static final System.Logger LOG = System.getLogger(VhostUserBlkExport.class.getName());
    /** Opaque reads of the per-queue counters from other threads (a polling test must see them change). */
    private static final VarHandle LONG_ELEMENT = MethodHandles.arrayElementVarHandle(long[].class);

    final int logicalBlockSize;
    final int numQueues;
    final IoThread sessionThread;
    private final RingAcceptor acceptor;
    /** The capacity in 512-byte sectors, read by the queues for every request; written on the control thread. */
    private volatile long capacitySectors;
    /** Session thread: the front end being served, or null. */
    private VhostUserSession session;
    private boolean drained;
    /** Requests answered per queue index, across sessions: each element written by its queue's IoThread only. */
    final long[] requestsServed;
    /**
     * Requests a previous back end left in flight and this one ran again from the inflight region, per queue index:
     * each element written by its queue's IoThread only.
     */
    final long[] requestsResubmitted;

    VhostUserBlkExport(ExportOptions o, NodeAccess node, IoThread[] threads, ListeningSocket socket,
            int logicalBlockSize, int numQueues) {
        super(o, node, threads);
        this.logicalBlockSize = logicalBlockSize;
        this.numQueues = numQueues;
        this.requestsServed = new long[numQueues];
        this.requestsResubmitted = new long[numQueues];
        this.sessionThread = threads[0];
        this.capacitySectors = node.length() >>> VirtioBlk.SECTOR_BITS;
        this.acceptor = new RingAcceptor(socket, sessionThread, this, "vhost-user-blk");
        node.setListener(this);
        sessionThread.execute(acceptor::arm);
    }

    long capacitySectors() {
        return capacitySectors;
    }

    /** The IoThread serving queue {@code index}. */
    IoThread queueThread(int index) {
        IoThread[] t = iothreads();
        return t[index % t.length];
    }

    /** Requests answered on queue {@code index} so far (tests and statistics; a racy read). */
    long requestsServed(int index) {
        return requestsServed[index];
    }

    /** Requests resubmitted from the inflight region on queue {@code index} so far (tests; a racy read). */
    long requestsResubmitted(int index) {
        return (long) LONG_ELEMENT.getOpaque(requestsResubmitted, index);
    }

    /** Session thread: whether a front end is connected (tests, query). */
    boolean connected() {
        return session != null;
    }

    // ---- front ends (session thread)

    @Override
    public void accepted(int fd) {
        if (session != null || !admitClient(() -> {})) {
            Fds.close(fd);
            return;
        }
        try {
            session = new VhostUserSession(this, fd);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "vhost-user-blk export '" + id() + "': " + e);
            Fds.close(fd);
            unref();
            acceptor.arm();
            return;
        }
        if (drained) {
            session.device().pause(true);
        }
        session.start();
    }

    /** The session ended and released everything: listen for the next front end. */
    void sessionEnded(VhostUserSession s) {
        if (session == s) {
            session = null;
        }
        if (!shuttingDown()) {
            acceptor.arm();
        }
        unref();
    }

    /** The listening socket is closed (and its file unlinked): the reference taken by requestShutdown goes. */
    @Override
    public void closed() {
        unref();
    }

    // ---- lifecycle (control thread)

    /**
     * Stops listening and ends the session. A reference is held until the socket is closed, so the export is gone
     * (and its id and path free again) only once the socket file is unlinked.
     */
    @Override
    protected void requestShutdown() {
        ref();
        sessionThread.execute(() -> {
            acceptor.close();
            if (session != null) {
                session.end("the export is being deleted");
            }
        });
    }

    @Override
    protected void delete() {
        node().setListener(null);
    }

    // ---- node events (control thread)

    @Override
    public void lengthChanged(long length) {
        capacitySectors = length >>> VirtioBlk.SECTOR_BITS;
        sessionThread.execute(() -> {
            if (session != null) {
                session.capacityChanged(length);
            }
        });
    }

    @Override
    public void drainedBegin() {
        sessionThread.execute(() -> {
            drained = true;
            if (session != null) {
                session.device().pause(true);
            }
        });
    }

    @Override
    public void drainedEnd() {
        sessionThread.execute(() -> {
            drained = false;
            if (session != null) {
                session.device().pause(false);
            }
        });
    }
}
