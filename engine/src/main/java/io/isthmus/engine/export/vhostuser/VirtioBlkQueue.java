package io.isthmus.engine.export.vhostuser;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Poll;
import io.isthmus.bindings.Posix;
import io.isthmus.engine.export.NodeAccess;
import io.isthmus.engine.loop.Completion;
import io.isthmus.engine.loop.IoThread;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One virtqueue of a vhost-user-blk session, served on the IoThread that owns it: its kick eventfd is read on that
 * thread's ring; each kick (and each start, which may resubmit requests from the inflight region) pops every
 * available chain into a preallocated {@link VirtioBlkSlot}, which parses it ({@link VirtioBlkRequest}) and submits
 * it through the export's {@link NodeAccess} with iovecs straight into guest memory. Completions add used entries;
 * the used index is published and the call eventfd written (when the driver's suppression allows) once per batch:
 * at the end of a kick's processing, or in a task posted once for the completions of one loop turn.
 *
 * <p>Stop: no request is taken any more, the kick read is cancelled, and once nothing is in flight the queue reports
 * its base to the session thread ({@link VirtioBlkDevice#stopped}). Slots are allocated on first use up to
 * {@link #MAX_SLOTS} and reused; a queue with every slot busy takes more when one completes.
 *
 * <p>Thread use: {@link #thread} only (constructed on the session thread before it is used). Memory: the slots'
 * iovec arrays and the eventfd buffers live in the queue's shared arena, closed by {@link #close} after the session
 * ended. Fds: the kick and call fds are dup()s owned here, closed at stop.
 */
final class VirtioBlkQueue implements Completion {
    private static final System.Logger LOG = System.getLogger(VirtioBlkQueue.class.getName());
    /** Requests in flight per queue at most (Linux's virtio-blk queue depth is the ring size, 128 or 256 in QEMU). */
    static final int MAX_SLOTS = 256;
    private static final int TAG_READ = 0, TAG_POLL = 1;

    final int index;
    final IoThread thread;
    final VirtioBlkDevice device;
    final NodeAccess node;
    final Arena arena = Arena.ofShared();
    private final MemorySegment kickBuf;
    private final MemorySegment callBuf;
    private final VirtioBlkSlot[] slots = new VirtioBlkSlot[MAX_SLOTS];
    private final int[] free = new int[MAX_SLOTS];
    private int freeTop;
    private int allocated;
    private final Runnable flushTask = this::flush;

    private Virtqueue vq;
    private Vring vring;
    private int kickFd = -1;
    private int callFd = -1;
    private long kickOp = -1;
    private boolean running;
    private boolean stopping;
    private boolean paused;
    private boolean starved;
    private boolean dirty;
    private boolean flushScheduled;
    private boolean brokenLogged;
    private boolean closed;
    /** Bumped when the queue moves to new guest memory: older requests are not completed into the old one. */
    int generation;
    int inFlight;

    VirtioBlkQueue(int index, IoThread thread, VirtioBlkDevice device) {
        this.index = index;
        this.thread = thread;
        this.device = device;
        this.node = device.export.node();
        kickBuf = arena.allocate(8, 8);
        callBuf = arena.allocate(8, 8);
        callBuf.set(ValueLayout.JAVA_LONG, 0, 1);
    }

    VhostUserBlkExport export() {
        return device.export;
    }

    // ---- start, stop, events (queue thread)

    void start(Virtqueue q, Vring v, int kick, int call) {
        vq = q;
        vring = v;
        kickFd = kick;
        callFd = call;
        running = true;
        stopping = false;
        brokenLogged = false;
        generation++;
        if (q instanceof SplitVirtqueue s) {
            device.export.requestsResubmitted[index] += s.pendingResubmits();
        }
        armKick();
        process();
        flush();
    }

    void stop() {
        if (!running) {
            report();
            return;
        }
        stopping = true;
        if (kickOp != -1) {
            thread.cancel(kickOp);
        }
        maybeStopped();
    }

    void setCall(int fd) {
        if (!running || stopping) {
            closeFd(fd);
            return;
        }
        closeFd(callFd);
        callFd = fd;
    }

    void pause(boolean p) {
        paused = p;
        if (!p && running && !stopping) {
            process();
            flush();
        }
    }

    /** Moves a running queue to {@code memory} (rings re-translated, indexes kept); in-flight requests are dropped. */
    void remap(GuestMemory memory) {
        if (!running || vq == null) {
            return;
        }
        generation++;
        try {
            if (dirty) {
                vq.publishUsed();
                dirty = false;
            }
            vq = map(vring, memory, vq.vringBase());
        } catch (VhostUserException e) {
            LOG.log(System.Logger.Level.ERROR, "vhost-user-blk queue " + index + ": " + e.getMessage());
            vq = null;
            stopping = true;
            if (kickOp != -1) {
                thread.cancel(kickOp);
            }
            return;
        }
        process();
        flush();
    }

    /** {@link Vring#mapQueue} on other memory and base. */
    private static Virtqueue map(Vring v, GuestMemory m, int base) throws VhostUserException {
        boolean eventIdx = v.hasFeature(VhostUser.F_RING_EVENT_IDX);
        boolean indirect = v.hasFeature(VhostUser.F_RING_INDIRECT_DESC);
        if (v.hasFeature(VhostUser.F_RING_PACKED)) {
            return PackedVirtqueue.map(m, v.size, v.descUser, v.availUser, v.usedUser, base, eventIdx, indirect);
        }
        SplitVirtqueue q = SplitVirtqueue.map(m, v.size, v.descUser, v.availUser, v.usedUser, base, eventIdx,
                indirect);
        if (v.inflight != null) {
            q.attachInflight(new SplitInflightLog(v.inflight, v.size));
        }
        return q;
    }

    private void armKick() {
        if (kickFd >= 0 && kickOp == -1 && !stopping) {
            kickOp = thread.read(kickFd, kickBuf, 0, this, TAG_READ);
        }
    }

    @Override
    public void complete(int res, int flags, long tag) {
        kickOp = -1;
        if (!running || stopping) {
            maybeStopped();
            return;
        }
        if (tag == TAG_POLL) {
            armKick();
            return;
        }
        if (res == -Errno.EAGAIN) {
            // front ends make their eventfds non-blocking: where the ring does not wait on them, poll first
            kickOp = thread.poll(kickFd, Poll.POLLIN, this, TAG_POLL);
            return;
        }
        if (res < 0 && res != -Errno.EINTR && res != -Errno.ECANCELED) {
            LOG.log(System.Logger.Level.WARNING, "vhost-user-blk queue " + index + ": kick read failed: "
                    + Errno.message(res));
            return;
        }
        process();
        flush();
        armKick();
    }

    // ---- requests

    /** Takes every available request (until the slots run out), with notifications off meanwhile. */
    private void process() {
        if (!running || stopping || paused || vq == null) {
            return;
        }
        Virtqueue q = vq;
        do {
            q.setNotification(false);
            while (true) {
                VirtioBlkSlot s = takeSlot();
                if (s == null) {
                    starved = true; // resumed when a slot completes; notifications stay off until then
                    return;
                }
                int r = q.pop(s.chain);
                if (r == Virtqueue.POPPED) {
                    s.start(generation);
                    if (q != vq) {
                        return; // moved to new memory meanwhile (a nested remap): that started its own pass
                    }
                } else if (r == Virtqueue.MALFORMED) {
                    q.addUsed(s.chain.head, 0, s.chain.ringDescriptors);
                    dirty = true;
                    release(s);
                } else {
                    release(s);
                    if (r == Virtqueue.BROKEN) {
                        if (!brokenLogged) {
                            brokenLogged = true;
                            LOG.log(System.Logger.Level.ERROR, "vhost-user-blk export '" + export().id()
                                    + "': queue " + index + " is broken; it serves no more requests");
                        }
                        return;
                    }
                    break;
                }
            }
        } while (q.setNotification(true));
    }

    private VirtioBlkSlot takeSlot() {
        if (freeTop > 0) {
            return slots[free[--freeTop]];
        }
        if (allocated < MAX_SLOTS) {
            VirtioBlkSlot s = new VirtioBlkSlot(this, allocated);
            slots[allocated++] = s;
            return s;
        }
        return null;
    }

    private void release(VirtioBlkSlot s) {
        free[freeTop++] = s.id;
    }

    /** A request is answered ({@code status} set in its VirtioBlkRequest): its used entry goes into the ring. */
    void finish(VirtioBlkSlot s, byte status) {
        if (s.generation == generation && vq != null) {
            s.request.status = status;
            int len = s.request.finish();
            vq.addUsed(s.chain.head, len, s.chain.ringDescriptors);
            dirty = true;
            device.export.requestsServed[index]++;
        }
        release(s);
        if (!flushScheduled) {
            flushScheduled = true;
            thread.execute(flushTask);
        }
    }

    /** Publishes the used entries added since the last flush and signals the driver if it wants it. */
    private void flush() {
        flushScheduled = false;
        if (dirty && vq != null) {
            dirty = false;
            vq.publishUsed();
            if (vq.needsNotify() && callFd >= 0) {
                Posix.write(callFd, callBuf, 8);
            }
        }
        if (starved && freeTop > 0) {
            starved = false;
            process();
            if (dirty) {
                flush();
                return;
            }
        }
        maybeStopped();
    }

    private void maybeStopped() {
        if (!running || !stopping || inFlight > 0 || kickOp != -1) {
            return;
        }
        if (dirty && vq != null) {
            dirty = false;
            vq.publishUsed();
            if (vq.needsNotify() && callFd >= 0) {
                Posix.write(callFd, callBuf, 8);
            }
        }
        running = false;
        stopping = false;
        closeFd(kickFd);
        closeFd(callFd);
        kickFd = callFd = -1;
        report();
    }

    private void report() {
        int base = vq == null ? (vring == null ? 0 : vring.base) : vq.vringBase();
        device.export.sessionThread.execute(() -> device.stopped(index, base));
    }

    /** After the session: frees the slots' memory. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        arena.close();
    }

    private static void closeFd(int fd) {
        if (fd >= 0) {
            Posix.close(fd);
        }
    }
}
