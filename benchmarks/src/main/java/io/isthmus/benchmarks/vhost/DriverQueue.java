package io.isthmus.benchmarks.vhost;

import static io.isthmus.engine.export.vhostuser.VhostUser.LE_INT;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_LONG;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_SHORT;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Poll;
import io.isthmus.bindings.Posix;
import io.isthmus.engine.export.vhostuser.SplitVirtqueue;
import io.isthmus.engine.export.vhostuser.VirtioBlk;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The driver's side of one split virtqueue (virtio 1.x section 2.7), as a guest's virtio-blk driver keeps it, in
 * the front end's shared memory: the descriptor table, the available ring this side fills and the used ring the
 * back end fills, with {@code depth} requests preallocated beside them. Request slot {@code s} owns descriptors
 * {@code 3s} (the 16-byte request header, device-readable), {@code 3s+1} (the data buffer, device-writable for
 * reads) and {@code 3s+2} (the status byte, device-writable); the chains are written once, so a resubmission
 * only rewrites the header's sector and puts {@code 3s} in the available ring. Ring sizes and flags come from
 * the engine's {@link SplitVirtqueue}, so both sides read one definition.
 *
 * <p>Ordering: ring entries are written before the avail index is stored with release semantics; a full fence
 * separates that store from the read of the device's suppression field (avail_event, or the used ring's
 * NO_NOTIFY flag) that decides whether to kick; the used index is read with acquire semantics before the used
 * entries and status bytes it publishes. Completions are found by polling the used ring; in
 * {@link Completion#INTERRUPT} mode the thread sleeps on the call eventfd when the ring is empty (notifications
 * re-enabled first, then the ring checked again), as an interrupt-driven guest driver does; in
 * {@link Completion#POLL} mode it spins and the device is asked never to notify.
 *
 * <p>Thread use: set up on the main thread, then driven by exactly one worker thread ({@link #run}); the main
 * thread reads the counters after joining it. Memory: the rings and buffers are slices of the front end's shared
 * mapping (owned by the front end); the kick value and pollfd are in this queue's own confined arena, created
 * and closed by the worker. Eventfds: owned by the front end. Native calls return {@code >= 0} or -errno.
 */
final class DriverQueue {
    enum Completion { POLL, INTERRUPT }

    private static final VarHandle IDX = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();
    private static final long PAGE = 4096;
    private static final int DESC_PER_REQUEST = 3;
    private static final byte STATUS_PENDING = (byte) 0xFF;

    final int index;
    final int size;
    final int depth;
    final int bs;
    final int kickFd;
    final int callFd;
    private final MemorySegment desc, avail, used, headers, status, data;
    private final long descOff, availOff, usedOff;
    private final boolean eventIdx;
    private final Completion completion;
    private final Workload work;
    private final long[] slotOffset;
    private final boolean[] slotBusy;
    private final long usedEventAt, availEventAt;

    private int availIdx;
    private int publishedAvail;
    private int lastUsed;
    private int inFlight;
    private long submitted;

    // ---- results, read by the main thread after join
    long completed;
    long completedAtRampEnd = -1;
    long ioErrors;
    long mismatches;
    long kicks;
    long waits;
    String failure;

    /** Bytes of shared memory one queue needs (page-aligned parts). */
    static long bytesFor(int size, int depth, int bs) {
        return layout(size, depth)[5] + align((long) bs * depth);
    }

    /** Offsets of desc, avail, used, headers, status and data inside a queue's block. */
    private static long[] layout(int size, int depth) {
        long desc = 0;
        long avail = align(desc + SplitVirtqueue.descTableBytes(size));
        long used = align(avail + SplitVirtqueue.availRingBytes(size));
        long headers = align(used + SplitVirtqueue.usedRingBytes(size));
        long status = headers + (long) VirtioBlk.OUTHDR_SIZE * depth;
        long data = align(status + depth);
        return new long[] {desc, avail, used, headers, status, data};
    }

    /** The queue size for {@code depth} requests of three descriptors: a power of two. */
    static int sizeFor(int depth) {
        return Integer.highestOneBit(Math.max(4, DESC_PER_REQUEST * depth) - 1) << 1;
    }

    private static long align(long v) {
        return (v + PAGE - 1) & -PAGE;
    }

    /**
     * A queue in {@code mem} at {@code base} (a block of {@link #bytesFor} bytes); guest physical addresses are
     * {@code gpaBase} + offset in {@code mem}.
     */
    DriverQueue(int index, MemorySegment mem, long base, long gpaBase, int size, int depth, int bs, int kickFd,
            int callFd, boolean eventIdx, Completion completion, Workload work) {
        if (depth * DESC_PER_REQUEST > size || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException("queue size " + size + " cannot hold " + depth + " requests");
        }
        this.index = index;
        this.size = size;
        this.depth = depth;
        this.bs = bs;
        this.kickFd = kickFd;
        this.callFd = callFd;
        this.eventIdx = eventIdx;
        this.completion = completion;
        this.work = work;
        long[] l = layout(size, depth);
        descOff = base + l[0];
        availOff = base + l[1];
        usedOff = base + l[2];
        desc = mem.asSlice(descOff, SplitVirtqueue.descTableBytes(size));
        avail = mem.asSlice(availOff, SplitVirtqueue.availRingBytes(size));
        used = mem.asSlice(usedOff, SplitVirtqueue.usedRingBytes(size));
        headers = mem.asSlice(base + l[3], (long) VirtioBlk.OUTHDR_SIZE * depth);
        status = mem.asSlice(base + l[4], depth);
        data = mem.asSlice(base + l[5], (long) bs * depth);
        usedEventAt = 4 + 2L * size;
        availEventAt = 4 + 8L * size;
        slotOffset = new long[depth];
        slotBusy = new boolean[depth];
        boolean write = work.write();
        for (int s = 0; s < depth; s++) {
            int d = DESC_PER_REQUEST * s;
            putDesc(d, gpaBase + base + l[3] + (long) VirtioBlk.OUTHDR_SIZE * s, VirtioBlk.OUTHDR_SIZE,
                    SplitVirtqueue.DESC_F_NEXT, d + 1);
            putDesc(d + 1, gpaBase + base + l[5] + (long) bs * s, bs,
                    SplitVirtqueue.DESC_F_NEXT | (write ? 0 : SplitVirtqueue.DESC_F_WRITE), d + 2);
            putDesc(d + 2, gpaBase + base + l[4] + s, 1, SplitVirtqueue.DESC_F_WRITE, 0);
            headers.set(LE_INT, (long) VirtioBlk.OUTHDR_SIZE * s, write ? VirtioBlk.T_OUT : VirtioBlk.T_IN);
            headers.set(LE_INT, (long) VirtioBlk.OUTHDR_SIZE * s + 4, 0);
        }
        // the device notifies only when asked (interrupt mode re-enables notifications before it sleeps)
        disableNotifications();
    }

    /** Offsets in the shared mapping of the three rings (SET_VRING_ADDR adds the mapping's address). */
    long descOffset() {
        return descOff;
    }

    long availOffset() {
        return availOff;
    }

    long usedOffset() {
        return usedOff;
    }

    private void putDesc(int i, long addr, int len, int flags, int next) {
        long at = (long) SplitVirtqueue.DESC_SIZE * i;
        desc.set(LE_LONG, at, addr);
        desc.set(LE_INT, at + 8, len);
        desc.set(LE_SHORT, at + 12, (short) flags);
        desc.set(LE_SHORT, at + 14, (short) next);
    }

    /**
     * Drives the queue: keeps {@code depth} requests in flight until {@code deadline} (System.nanoTime) or until
     * the workload's I/O count is reached, then waits for those in flight; the completions counted until
     * {@code rampEnd} are remembered apart. A back end that stops answering for {@code stallNanos} ends the run
     * with {@link #failure}.
     */
    void run(long rampEnd, long deadline, long stallNanos) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocate(8, 8);
            one.set(ValueLayout.JAVA_LONG, 0, 1);
            MemorySegment pfd = arena.allocate(Poll.pollfd);
            MemorySegment drain = arena.allocate(8, 8);
            for (int s = 0; s < depth && work.more(submitted); s++) {
                submit(s);
            }
            publish(one);
            long lastProgress = System.nanoTime();
            boolean stopping = false;
            while (true) {
                long now = System.nanoTime();
                if (completedAtRampEnd < 0 && now - rampEnd >= 0) {
                    completedAtRampEnd = completed;
                }
                int done = reap(stopping);
                if (done > 0) {
                    lastProgress = now;
                    publish(one);
                } else if (now - lastProgress > stallNanos) {
                    failure = "queue " + index + ": no completion for " + stallNanos / 1_000_000 + " ms ("
                            + inFlight + " requests in flight)";
                    return;
                } else if (inFlight > 0) {
                    await(pfd, drain);
                }
                if (!stopping && (now - deadline >= 0 || !work.more(submitted))) {
                    stopping = true;
                }
                if (failure != null || (stopping && inFlight == 0)) {
                    return;
                }
            }
        } catch (RuntimeException e) {
            failure = "queue " + index + ": " + e;
        }
    }

    private void submit(int s) {
        long offset = work.nextOffset();
        slotOffset[s] = offset;
        headers.set(LE_LONG, (long) VirtioBlk.OUTHDR_SIZE * s + 8, offset >>> VirtioBlk.SECTOR_BITS);
        status.set(ValueLayout.JAVA_BYTE, s, STATUS_PENDING);
        if (work.verify && work.write()) {
            Pattern.fill(data, (long) bs * s, bs, offset);
        }
        avail.set(LE_SHORT, 4 + 2L * (availIdx & (size - 1)), (short) (DESC_PER_REQUEST * s));
        availIdx = (availIdx + 1) & 0xFFFF;
        slotBusy[s] = true;
        inFlight++;
        submitted++;
    }

    /** Publishes the new avail entries (release) and kicks unless the device asked not to be kicked. */
    private void publish(MemorySegment one) {
        if (availIdx == publishedAvail) {
            return;
        }
        int old = publishedAvail;
        IDX.setRelease(avail, 2L, (short) availIdx);
        publishedAvail = availIdx;
        VarHandle.fullFence();
        boolean kick;
        if (eventIdx) {
            int availEvent = used.get(LE_SHORT, availEventAt) & 0xFFFF;
            kick = SplitVirtqueue.needEvent(availEvent, availIdx, old);
        } else {
            kick = (used.get(LE_SHORT, 0) & SplitVirtqueue.USED_F_NO_NOTIFY) == 0;
        }
        if (kick) {
            long r = Posix.write(kickFd, one, 8);
            if (r != 8) {
                throw new IllegalStateException("kick eventfd write: " + (r < 0 ? Errno.name((int) -r) : r));
            }
            kicks++;
        }
    }

    /** Takes every used entry; resubmits each slot unless stopping. Returns the number of completions. */
    private int reap(boolean stopping) {
        int usedIdx = (short) IDX.getAcquire(used, 2L) & 0xFFFF;
        int n = 0;
        while (lastUsed != usedIdx) {
            long at = 4 + 8L * (lastUsed & (size - 1));
            int id = used.get(LE_INT, at);
            lastUsed = (lastUsed + 1) & 0xFFFF;
            int s = id / DESC_PER_REQUEST;
            if (id < 0 || id % DESC_PER_REQUEST != 0 || s >= depth || !slotBusy[s]) {
                failure = "queue " + index + ": the back end returned descriptor " + Integer.toUnsignedString(id)
                        + ", which is no request in flight";
                return n;
            }
            slotBusy[s] = false;
            inFlight--;
            completed++;
            n++;
            byte st = status.get(ValueLayout.JAVA_BYTE, s);
            if (st != VirtioBlk.S_OK) {
                ioErrors++;
                if (failure == null && ioErrors == 1) {
                    System.err.println("vhost-user-blk-fe: queue " + index + ": status " + (st & 0xFF)
                            + " for " + (work.write() ? "write" : "read") + " at offset " + slotOffset[s]);
                }
            } else if (work.verify && !work.write()
                    && !Pattern.check(data, (long) bs * s, bs, slotOffset[s])) {
                mismatches++;
            }
            if (!stopping && work.more(submitted)) {
                submit(s);
            }
        }
        return n;
    }

    /** Nothing completed: spin once (poll) or sleep on the call eventfd with notifications enabled. */
    private void await(MemorySegment pfd, MemorySegment drain) {
        if (completion == Completion.POLL) {
            Thread.onSpinWait();
            return;
        }
        enableNotifications();
        VarHandle.fullFence();
        if (((short) IDX.getAcquire(used, 2L) & 0xFFFF) == lastUsed) {
            pfd.set(ValueLayout.JAVA_INT, 0, callFd);
            pfd.set(ValueLayout.JAVA_SHORT, 4, (short) Poll.POLLIN);
            pfd.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
            int r = Posix.poll(pfd, 1, 100);
            if (r > 0) {
                Posix.read(callFd, drain, 8); // non-blocking: clears the counter
            } else if (r < 0 && r != -Errno.EINTR) {
                throw new IllegalStateException("poll on the call eventfd: " + Errno.name(-r));
            }
            waits++;
        }
        disableNotifications();
    }

    /** Asks for a notification at the next used entry (EVENT_IDX: used_event; else clears NO_INTERRUPT). */
    private void enableNotifications() {
        if (eventIdx) {
            avail.set(LE_SHORT, usedEventAt, (short) lastUsed);
        } else {
            avail.set(LE_SHORT, 0, (short) 0);
        }
    }

    /** Asks for no notification (EVENT_IDX: a used_event just passed, so none for 65535 completions). */
    private void disableNotifications() {
        if (eventIdx) {
            avail.set(LE_SHORT, usedEventAt, (short) (lastUsed - 1));
        } else {
            avail.set(LE_SHORT, 0, (short) SplitVirtqueue.AVAIL_F_NO_INTERRUPT);
        }
    }

    /** The avail index the back end should report at GET_VRING_BASE once everything completed. */
    int availIndex() {
        return availIdx;
    }
}
