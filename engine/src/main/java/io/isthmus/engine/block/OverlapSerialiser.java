package io.isthmus.engine.block;

import io.isthmus.engine.loop.IoThread;
import java.util.ArrayList;

/**
 * Serialises overlapping writes on an O_DIRECT node (QEMU's serialising tracked requests): a misaligned write is a
 * read-modify-write of whole aligned blocks, so while it is in flight no other write may touch those blocks (its
 * write-back would undo the other write), and it may not start while another write to them is in flight (its read
 * would see the old data and its write-back would undo the other write in turn).
 *
 * <p>Every write-type request (write, write-zeroes, discard) of an O_DIRECT node enters with its range rounded out to
 * the node's request alignment; a misaligned write enters as <em>serialising</em>. A request that overlaps an
 * in-flight request when either of the two is serialising waits, parked with the IoThread it came from, until an
 * overlapping request leaves; it is then handed back to the node on its own IoThread to try again. Requests that
 * do not overlap a serialising one never wait.
 *
 * <p>Thread use: any IoThread; a node may serve several, so the lists are guarded by this object's monitor (taken
 * only on O_DIRECT nodes, where each request costs a system call and a device round trip anyway). Memory: none
 * native; the waiting list allocates only when a request actually waits.
 */
final class OverlapSerialiser {
    /** Called on the waiting request's own IoThread when it may try again. */
    interface Resumer {
        void resume(BlockRequest req);
    }

    private final ArrayList<BlockRequest> inFlight = new ArrayList<>();
    private final ArrayList<BlockRequest> waiting = new ArrayList<>();
    private final Resumer resumer;

    OverlapSerialiser(Resumer resumer) {
        this.resumer = resumer;
    }

    /**
     * Tracks the request over [start, end) if nothing overlapping blocks it and returns true; otherwise parks it and
     * returns false (the resumer gets it back later). Called on the request's IoThread.
     */
    boolean enter(BlockRequest req, long start, long end, boolean serialising) {
        req.serialStart = start;
        req.serialEnd = end;
        req.serialising = serialising;
        synchronized (this) {
            for (int i = 0, n = inFlight.size(); i < n; i++) {
                BlockRequest o = inFlight.get(i);
                if ((serialising || o.serialising) && o.serialStart < end && start < o.serialEnd) {
                    req.parkedOn = IoThread.current();
                    waiting.add(req);
                    return false;
                }
            }
            inFlight.add(req);
            req.serialTracked = true;
        }
        return true;
    }

    /** Stops tracking the request (before it completes) and wakes the requests that waited on its range. */
    void exit(BlockRequest req) {
        ArrayList<BlockRequest> wake = null;
        synchronized (this) {
            req.serialTracked = false;
            inFlight.remove(req);
            for (int i = 0; i < waiting.size(); ) {
                BlockRequest w = waiting.get(i);
                if (w.serialStart < req.serialEnd && req.serialStart < w.serialEnd) {
                    waiting.remove(i);
                    if (wake == null) {
                        wake = new ArrayList<>(2);
                    }
                    wake.add(w);
                } else {
                    i++;
                }
            }
        }
        if (wake != null) {
            for (BlockRequest w : wake) {
                IoThread t = w.parkedOn;
                w.parkedOn = null;
                if (t == null) {
                    resumer.resume(w);
                } else {
                    try {
                        t.execute(() -> resumer.resume(w)); // in parking order: FIFO per IoThread
                    } catch (java.util.concurrent.RejectedExecutionException e) {
                        // its IoThread is shutting down: the request goes with it, as its in-flight ones do
                    }
                }
            }
        }
    }

    /** Requests tracked or waiting (tests). */
    synchronized int size() {
        return inFlight.size() + waiting.size();
    }
}
