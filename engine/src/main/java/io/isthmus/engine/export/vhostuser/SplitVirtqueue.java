package io.isthmus.engine.export.vhostuser;

import static io.isthmus.engine.export.vhostuser.VhostUser.LE_INT;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_LONG;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_SHORT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A split virtqueue (virtio 1.x section 2.7) served by the device: the descriptor table, the available ring the
 * driver fills and the used ring the device fills, all in guest memory, treated as hostile.
 *
 * <p>Ordering with the guest is explicit: the avail index is read with acquire semantics before the ring entries
 * and descriptors it publishes; used entries are written before the used index is stored with release
 * semantics; a full fence separates that store (or the avail-event store) from the reads of the driver's
 * suppression fields, as virtio's memory barriers require. Every descriptor is read once into locals, checked
 * (address range inside one guest region, non-zero length, next index in range, a time-to-live of the queue size
 * against loops, INDIRECT_DESC rules, readable before writable) and copied into a {@link DescriptorChain}. An
 * avail index that moves by more than the queue size, or a head index out of range, breaks the queue: it stops
 * and never re-runs a request.
 *
 * <p>Thread use: one IoThread owns the queue (pop, push, notification decisions). Memory: the ring segments are
 * slices of the session's {@link GuestMemory}; nothing is allocated after construction. Return convention: pop
 * results are {@link Virtqueue}'s constants.
 */
public final class SplitVirtqueue implements Virtqueue {
    // ---- ring flags
    public static final int DESC_F_NEXT = 1, DESC_F_WRITE = 2, DESC_F_INDIRECT = 4;
    public static final int AVAIL_F_NO_INTERRUPT = 1, USED_F_NO_NOTIFY = 1;
    public static final int DESC_SIZE = 16;
    /** Entries an indirect table may hold (the spec's largest queue; a chain is no longer than that). */
    public static final int MAX_INDIRECT = VhostUser.MAX_QUEUE_SIZE;

    /** Aligned 16-bit little-endian atomics for the two indexes the guest and the device publish. */
    private static final VarHandle IDX = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    private final GuestMemory memory;
    private final MemorySegment desc;
    private final MemorySegment avail;
    private final MemorySegment used;
    private final int size;
    private final boolean eventIdx;
    private final boolean indirect;
    private final long usedEventOffset;
    private final long availEventOffset;

    private int lastAvail;
    private int shadowAvail;
    private int usedIdx;
    private int publishedUsed;
    private int signalledUsed;
    private boolean signalledUsedValid;
    private boolean broken;
    private SplitInflightLog inflight;

    /** Bytes of each part of a split ring of {@code size} entries (with the event-index fields). */
    public static long descTableBytes(int size) {
        return (long) DESC_SIZE * size;
    }

    public static long availRingBytes(int size) {
        return 6 + 2L * size;
    }

    public static long usedRingBytes(int size) {
        return 6 + 8L * size;
    }

    /**
     * A queue over rings already translated into guest memory. {@code size} must be a power of two up to 32768,
     * the segments at least as large as the ring parts and aligned as virtio requires (16, 2 and 4 bytes).
     * {@code lastAvail} is the SET_VRING_BASE value; the used index is read from the used ring (where a previous
     * back end left it).
     */
    public SplitVirtqueue(GuestMemory memory, int size, MemorySegment desc, MemorySegment avail, MemorySegment used,
            int lastAvail, boolean eventIdx, boolean indirect) throws VhostUserException {
        if (size <= 0 || size > VhostUser.MAX_QUEUE_SIZE || Integer.bitCount(size) != 1) {
            throw new VhostUserException("split virtqueue size " + size + " is not a power of two up to 32768");
        }
        if (desc.byteSize() < descTableBytes(size) || avail.byteSize() < availRingBytes(size)
                || used.byteSize() < usedRingBytes(size)) {
            throw new VhostUserException("virtqueue rings smaller than the queue size needs");
        }
        if ((desc.address() & 15) != 0 || (avail.address() & 1) != 0 || (used.address() & 3) != 0) {
            throw new VhostUserException("virtqueue rings misaligned");
        }
        this.memory = memory;
        this.size = size;
        this.desc = desc;
        this.avail = avail;
        this.used = used;
        this.eventIdx = eventIdx;
        this.indirect = indirect;
        this.usedEventOffset = 4 + 2L * size;
        this.availEventOffset = 4 + 8L * size;
        this.lastAvail = lastAvail & 0xFFFF;
        this.shadowAvail = this.lastAvail;
        this.usedIdx = (short) IDX.getAcquire(used, 2L) & 0xFFFF;
        this.publishedUsed = usedIdx;
        this.signalledUsed = usedIdx;
    }

    /**
     * Translates the front end's ring addresses (SET_VRING_ADDR user addresses) through {@code memory} and builds
     * the queue; refuses rings outside guest memory.
     */
    public static SplitVirtqueue map(GuestMemory memory, int size, long descUser, long availUser, long usedUser,
            int lastAvail, boolean eventIdx, boolean indirect) throws VhostUserException {
        if (size <= 0 || size > VhostUser.MAX_QUEUE_SIZE) {
            throw new VhostUserException("virtqueue size " + size + " out of range");
        }
        MemorySegment d = memory.sliceByUserAddress(descUser, descTableBytes(size));
        MemorySegment a = memory.sliceByUserAddress(availUser, availRingBytes(size));
        MemorySegment u = memory.sliceByUserAddress(usedUser, usedRingBytes(size));
        if (d == null || a == null || u == null) {
            throw new VhostUserException("virtqueue rings outside guest memory");
        }
        return new SplitVirtqueue(memory, size, d, a, u, lastAvail, eventIdx, indirect);
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public boolean isBroken() {
        return broken;
    }

    /** The next avail index to consume: what GET_VRING_BASE reports once in-flight requests are done. */
    public int lastAvailIndex() {
        return lastAvail;
    }

    @Override
    public int vringBase() {
        return lastAvail;
    }

    public int usedIndex() {
        return usedIdx;
    }

    /**
     * Tracks this queue's requests in the inflight region (INFLIGHT_SHMFD) from now on. If the region holds a
     * previous back end's state, the requests it left in flight are popped again first (oldest first) and the
     * queue resumes at the avail index that follows them, as libvhost-user does; the caller should process the
     * queue at once rather than wait for a kick. Call before the first pop.
     */
    public void attachInflight(SplitInflightLog log) {
        int resume = log.recover(usedIdx);
        if (resume >= 0) {
            lastAvail = resume;
            shadowAvail = resume;
        }
        inflight = log;
    }

    /** Requests still to be run again from the inflight region ({@link #attachInflight}); 0 without one. */
    public int pendingResubmits() {
        return inflight == null ? 0 : inflight.pendingResubmits();
    }

    /**
     * Takes the next available chain into {@code chain}. Returns {@link #POPPED}, {@link #MALFORMED} (the head
     * is consumed and must be completed, e.g. with {@code push(chain.head, 0)}), {@link #EMPTY} or
     * {@link #BROKEN}.
     */
    @Override
    public int pop(DescriptorChain chain) {
        if (broken) {
            return BROKEN;
        }
        if (inflight != null && inflight.pendingResubmits() > 0) {
            int head = inflight.nextResubmit(); // below the queue size: the log checked it
            chain.reset(head, memory);
            chain.ringDescriptors = 1;
            int e = walk(head, chain);
            chain.error = e;
            return e == DescriptorChain.OK ? POPPED : MALFORMED;
        }
        if (lastAvail == shadowAvail) {
            int pending = readAvailIndex();
            if (pending < 0) {
                return BROKEN;
            }
            if (pending == 0) {
                return EMPTY;
            }
        }
        int head = avail.get(LE_SHORT, 4 + 2L * (lastAvail & (size - 1))) & 0xFFFF;
        if (head >= size) {
            broken = true;
            return BROKEN;
        }
        lastAvail = (lastAvail + 1) & 0xFFFF;
        if (inflight != null) {
            inflight.popped(head);
        }
        if (eventIdx) {
            used.set(LE_SHORT, availEventOffset, (short) lastAvail);
        }
        chain.reset(head, memory);
        chain.ringDescriptors = 1;
        int e = walk(head, chain);
        chain.error = e;
        return e == DescriptorChain.OK ? POPPED : MALFORMED;
    }

    private int walk(int head, DescriptorChain chain) {
        MemorySegment table = desc;
        long base = 0;
        int tableSize = size;
        int ttl = size;
        long at = (long) head * DESC_SIZE;
        long addr = table.get(LE_LONG, at);
        int len = table.get(LE_INT, at + 8);
        int flags = table.get(LE_SHORT, at + 12) & 0xFFFF;
        int next = table.get(LE_SHORT, at + 14) & 0xFFFF;
        if ((flags & DESC_F_INDIRECT) != 0) {
            if (!indirect) {
                return DescriptorChain.E_INDIRECT_NOT_NEGOTIATED;
            }
            if ((flags & DESC_F_NEXT) != 0) {
                return DescriptorChain.E_INDIRECT_WITH_NEXT;
            }
            long tableLen = len & 0xFFFFFFFFL;
            if (tableLen == 0 || (tableLen & (DESC_SIZE - 1)) != 0 || tableLen / DESC_SIZE > MAX_INDIRECT) {
                return DescriptorChain.E_INDIRECT_SIZE;
            }
            int r = memory.find(addr, tableLen);
            if (r < 0) {
                return DescriptorChain.E_ADDRESS;
            }
            table = memory.segment(r);
            base = memory.offset(r, addr);
            tableSize = (int) (tableLen / DESC_SIZE);
            ttl = tableSize;
            addr = table.get(LE_LONG, base);
            len = table.get(LE_INT, base + 8);
            flags = table.get(LE_SHORT, base + 12) & 0xFFFF;
            next = table.get(LE_SHORT, base + 14) & 0xFFFF;
            if ((flags & DESC_F_INDIRECT) != 0) {
                return DescriptorChain.E_NESTED_INDIRECT;
            }
        }
        boolean nested = table != desc;
        while (true) {
            if (ttl-- == 0) {
                return DescriptorChain.E_TOO_LONG;
            }
            if ((flags & DESC_F_INDIRECT) != 0) {
                return nested ? DescriptorChain.E_NESTED_INDIRECT : DescriptorChain.E_INDIRECT_IN_CHAIN;
            }
            if (len == 0) {
                return DescriptorChain.E_ZERO_LENGTH;
            }
            int r = memory.find(addr, len & 0xFFFFFFFFL);
            if (r < 0) {
                return DescriptorChain.E_ADDRESS;
            }
            boolean writable = (flags & DESC_F_WRITE) != 0;
            if (!writable && chain.writable() > 0) {
                return DescriptorChain.E_DIRECTION;
            }
            if (!chain.add(r, memory.offset(r, addr), len, writable)) {
                return DescriptorChain.E_TOO_MANY_SEGMENTS;
            }
            if ((flags & DESC_F_NEXT) == 0) {
                return DescriptorChain.OK;
            }
            if (next >= tableSize) {
                return DescriptorChain.E_NEXT_OUT_OF_RANGE;
            }
            at = base + (long) next * DESC_SIZE;
            addr = table.get(LE_LONG, at);
            len = table.get(LE_INT, at + 8);
            flags = table.get(LE_SHORT, at + 12) & 0xFFFF;
            next = table.get(LE_SHORT, at + 14) & 0xFFFF;
        }
    }

    /**
     * Writes a used entry, not yet visible to the guest: {@link #publishUsed} does that, once per batch. With an
     * inflight log each entry is published at once (the log's crash protocol covers one entry at a time).
     */
    public void addUsed(int head, int len) {
        if (inflight != null) {
            inflight.beforeUsed(head);
        }
        long at = 4 + 8L * (usedIdx & (size - 1));
        used.set(LE_INT, at, head);
        used.set(LE_INT, at + 4, len);
        usedIdx = (usedIdx + 1) & 0xFFFF;
        if (inflight != null) {
            publishUsed();
            inflight.afterUsed(head, usedIdx);
        }
    }

    @Override
    public void addUsed(int id, int len, int ringDescriptors) {
        addUsed(id, len);
    }

    /** Makes the used entries added so far visible: a release store of the used index. */
    @Override
    public void publishUsed() {
        int old = publishedUsed;
        IDX.setRelease(used, 2L, (short) usedIdx);
        publishedUsed = usedIdx;
        // more than 2^15 completions since the last signal: the event-index window no longer tells (libvhost-user)
        if ((short) (usedIdx - signalledUsed) < ((usedIdx - old) & 0xFFFF)) {
            signalledUsedValid = false;
        }
    }

    /** {@link #addUsed} and {@link #publishUsed} for one entry. */
    public void push(int head, int len) {
        addUsed(head, len);
        publishUsed();
    }

    /**
     * After {@link #publishUsed}: must the driver be signalled (write the call eventfd)? Honours EVENT_IDX
     * (used_event) or the NO_INTERRUPT flag. A full fence first: the used index must be visible before the
     * driver's suppression field is read.
     */
    @Override
    public boolean needsNotify() {
        VarHandle.fullFence();
        if (!eventIdx) {
            return (avail.get(LE_SHORT, 0) & AVAIL_F_NO_INTERRUPT) == 0;
        }
        boolean valid = signalledUsedValid;
        int old = signalledUsed;
        signalledUsed = usedIdx;
        signalledUsedValid = true;
        int usedEvent = avail.get(LE_SHORT, usedEventOffset) & 0xFFFF;
        return !valid || needEvent(usedEvent, usedIdx, old);
    }

    /** virtio's vring_need_event: has {@code eventIdx} been passed by moving from {@code old} to {@code newIdx}? */
    public static boolean needEvent(int eventIdx, int newIdx, int old) {
        return ((newIdx - eventIdx - 1) & 0xFFFF) < ((newIdx - old) & 0xFFFF);
    }

    /**
     * Asks the driver not to kick (while the device is busy polling the ring anyway), or to kick again. When
     * enabling, returns true if buffers arrived meanwhile: the caller must process them rather than sleep (the
     * fence and re-check close the race with a driver that saw the suppression).
     */
    @Override
    public boolean setNotification(boolean enable) {
        if (eventIdx) {
            if (enable) {
                used.set(LE_SHORT, availEventOffset, (short) ((short) IDX.getAcquire(avail, 2L)));
            }
        } else {
            int f = used.get(LE_SHORT, 0) & 0xFFFF;
            used.set(LE_SHORT, 0, (short) (enable ? f & ~USED_F_NO_NOTIFY : f | USED_F_NO_NOTIFY));
        }
        if (!enable) {
            return false;
        }
        VarHandle.fullFence();
        return hasAvailable();
    }

    /** True if the driver has made buffers available that were not popped yet (an acquire read). */
    @Override
    public boolean hasAvailable() {
        if (broken) {
            return false;
        }
        if (inflight != null && inflight.pendingResubmits() > 0) {
            return true;
        }
        return lastAvail != shadowAvail || readAvailIndex() > 0;
    }

    /**
     * Acquire-reads the driver's avail index; returns how many entries it publishes past {@link #lastAvail}, or -1
     * (and the queue is broken) if that is more than the queue holds: the index jumped or went backwards.
     */
    private int readAvailIndex() {
        shadowAvail = (short) IDX.getAcquire(avail, 2L) & 0xFFFF;
        int pending = (shadowAvail - lastAvail) & 0xFFFF;
        if (pending > size) {
            broken = true;
            return -1;
        }
        return pending;
    }
}
