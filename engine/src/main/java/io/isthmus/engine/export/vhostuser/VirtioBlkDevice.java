package io.isthmus.engine.export.vhostuser;

import io.isthmus.bindings.Fcntl;
import io.isthmus.bindings.Posix;
import io.isthmus.engine.loop.IoThread;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The virtio-blk device of one vhost-user session: what it offers (QEMU 7.2's features, RO for a read-only export,
 * packed rings), its config space, and its queues, each served by {@link VirtioBlkQueue} on the IoThread that owns
 * it (queue {@code i} on the export's IoThread {@code i mod n}).
 *
 * <p>Start and stop cross threads: a start maps the rings here (a bad ring ends the session) and hands the queue
 * dup()ed kick and call fds on its thread; every stop is {@link #DEFER}red: the queue stops taking requests, waits
 * for those in flight, and reports its base back here, which answers the handler
 * ({@link VhostUserSession#queueStopped}). A queue restarted while its stop is pending (SET_VRING_KICK on a running
 * queue) starts once the stop has reported, from the base it reported.
 *
 * <p>Memory changes while queues run (SET_MEM_TABLE, REM_MEM_REG after the guest started): each running queue
 * moves to the new memory on its thread before this returns (the session thread waits for the other threads, at
 * most a few seconds); requests in flight at that moment are not completed into the old memory (it is unmapped):
 * they are dropped, and resubmitted from the inflight region when the front end set one up.
 *
 * <p>Thread use: the session thread, except {@link #fuaWrites}, read by the queues. Fds: the dup()s belong to the
 * queues.
 */
final class VirtioBlkDevice implements VhostUserDevice {
    private static final System.Logger LOG = System.getLogger(VirtioBlkDevice.class.getName());

    final VhostUserBlkExport export;
    private final VhostUserSession session;
    private final VirtioBlkConfig config;
    private final VirtioBlkQueue[] queues;
    private final boolean[] stopPending;
    private final Vring[] restartPending;
    private int pendingStops;
    /** The front end turned the write cache off (SET_CONFIG wce=0): writes are FUA. */
    volatile boolean fuaWrites;

    VirtioBlkDevice(VhostUserBlkExport export, VhostUserSession session) {
        this.export = export;
        this.session = session;
        this.config = new VirtioBlkConfig(export.capacitySectors() << VirtioBlk.SECTOR_BITS, export.logicalBlockSize,
                export.numQueues);
        int n = export.numQueues;
        queues = new VirtioBlkQueue[n];
        for (int i = 0; i < n; i++) {
            queues[i] = new VirtioBlkQueue(i, export.queueThread(i), this);
        }
        stopPending = new boolean[n];
        restartPending = new Vring[n];
    }

    VirtioBlkConfig config() {
        return config;
    }

    int pendingStops() {
        return pendingStops;
    }

    VirtioBlkQueue queue(int i) {
        return queues[i];
    }

    @Override
    public long features() {
        return VirtioBlk.features(export.writable(), true);
    }

    @Override
    public int numQueues() {
        return queues.length;
    }

    @Override
    public int configSize() {
        return VirtioBlkConfig.SIZE;
    }

    @Override
    public int readConfig(int offset, MemorySegment dst, int size) {
        return config.read(offset, dst, size);
    }

    /**
     * QEMU's vu_blk_set_config: only the wce byte may be written, by the front end (a migration-type write is
     * refused); it switches the write cache.
     */
    @Override
    public int writeConfig(int offset, MemorySegment src, int size, int flags) {
        if (flags != VhostUser.CONFIG_TYPE_FRONTEND || offset != VirtioBlkConfig.WCE || size != 1) {
            return -22;
        }
        int wce = src.get(ValueLayout.JAVA_BYTE, 0) & 0xFF;
        config.setWce(wce);
        fuaWrites = wce == 0;
        return 0;
    }

    @Override
    public void startQueue(Vring vring) throws VhostUserException {
        int i = vring.index;
        if (stopPending[i]) {
            restartPending[i] = vring; // started from the base the pending stop reports
            return;
        }
        start(vring);
    }

    private void start(Vring v) throws VhostUserException {
        Virtqueue vq = v.mapQueue();
        int kick = dup(v.kickFd);
        int call = dup(v.callFd);
        VirtioBlkQueue q = queues[v.index];
        q.thread.execute(() -> q.start(vq, v, kick, call));
    }

    private static int dup(int fd) {
        return fd < 0 ? -1 : Posix.fcntl(fd, Fcntl.F_DUPFD_CLOEXEC, 0);
    }

    @Override
    public long stopQueue(int index) {
        if (restartPending[index] != null) {
            restartPending[index] = null; // never restarted: the pending stop's report answers
            return DEFER;
        }
        stopPending[index] = true;
        pendingStops++;
        VirtioBlkQueue q = queues[index];
        q.thread.execute(q::stop);
        return DEFER;
    }

    /** Queue {@code index} has stopped with {@code base} (posted by the queue to the session thread). */
    void stopped(int index, int base) {
        stopPending[index] = false;
        pendingStops--;
        session.queueStopped(index, base);
        Vring r = restartPending[index];
        if (r != null) {
            restartPending[index] = null;
            try {
                start(r);
            } catch (VhostUserException e) {
                session.end(e.getMessage());
            }
        }
        session.stopsSettled();
    }

    @Override
    public void callChanged(int index, int fd) {
        int call = dup(fd);
        VirtioBlkQueue q = queues[index];
        q.thread.execute(() -> q.setCall(call));
    }

    @Override
    public void memoryChanged(GuestMemory memory) {
        IoThread here = session.thread();
        CountDownLatch done = null;
        for (VirtioBlkQueue q : queues) {
            if (q.thread == here) {
                q.remap(memory);
            } else {
                if (done == null) {
                    done = new CountDownLatch(queues.length);
                }
                CountDownLatch d = done;
                q.thread.execute(() -> {
                    q.remap(memory);
                    d.countDown();
                });
            }
        }
        if (done != null) {
            for (VirtioBlkQueue q : queues) {
                if (q.thread == here) {
                    done.countDown();
                }
            }
            try {
                if (!done.await(5, TimeUnit.SECONDS)) {
                    LOG.log(System.Logger.Level.ERROR, "vhost-user-blk export '" + export.id()
                            + "': queues did not move to the new guest memory in time");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void featuresAcked(long features) {
    }

    /** Drained sections: the queues take no requests while paused. */
    void pause(boolean paused) {
        for (VirtioBlkQueue q : queues) {
            q.thread.execute(() -> q.pause(paused));
        }
    }

    /** The session ended and every queue stopped: frees the queues' memory. */
    void close() {
        for (VirtioBlkQueue q : queues) {
            try {
                q.thread.execute(q::close);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                q.close(); // the IoThread is stopping: nothing of the queue runs there any more
            }
        }
    }
}
