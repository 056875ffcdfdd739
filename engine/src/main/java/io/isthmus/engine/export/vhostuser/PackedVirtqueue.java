package io.isthmus.engine.export.vhostuser;

import static io.isthmus.engine.export.vhostuser.VhostUser.LE_INT;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_LONG;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_SHORT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A packed virtqueue (virtio 1.1+ section 2.8, VIRTIO_F_RING_PACKED) served by the device: one descriptor ring
 * that the driver fills and the device overwrites with used descriptors, with wrap counters instead of indexes,
 * and two event-suppression areas (the driver's, read here; the device's, written here). For vhost-user the
 * SET_VRING_ADDR "desc" address is the ring, "avail" the driver area, "used" the device area.
 *
 * <p>Ordering: a descriptor's flags are read with acquire semantics before its other fields; a used descriptor's
 * id and length are written before its flags, which are stored with release semantics; full fences separate
 * publishing from reading the other side's suppression fields. Chains are walked with a time-to-live of the
 * queue size (a chain that does not end within the ring breaks the queue: its end cannot be found), each buffer
 * checked as in {@link SplitVirtqueue}; an indirect descriptor must stand alone, its table (all entries, in
 * order) may not nest. The buffer id is the last descriptor's, as the spec says (Linux writes it in all).
 *
 * <p>Thread use: one IoThread owns the queue. Memory: slices of the session's {@link GuestMemory}; nothing is
 * allocated after construction.
 */
public final class PackedVirtqueue implements Virtqueue {
    public static final int DESC_F_NEXT = 1, DESC_F_WRITE = 2, DESC_F_INDIRECT = 4, DESC_F_AVAIL = 1 << 7,
            DESC_F_USED = 1 << 15;
    /** Event suppression flags (driver and device areas). */
    public static final int EVENT_FLAG_ENABLE = 0, EVENT_FLAG_DISABLE = 1, EVENT_FLAG_DESC = 2;
    public static final int DESC_SIZE = 16, EVENT_AREA_SIZE = 4;

    private static final VarHandle U16 = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    private final GuestMemory memory;
    private final MemorySegment ring;
    private final MemorySegment driverEvent;
    private final MemorySegment deviceEvent;
    private final int size;
    private final boolean eventIdx;
    private final boolean indirect;

    private int lastAvail;
    private boolean availWrap;
    private int usedIdx;
    private boolean usedWrap;
    private int signalledUsed;
    private boolean signalledUsedValid;
    private boolean broken;

    /**
     * A queue over areas already translated into guest memory: the ring ({@code 16 * size} bytes, 16-aligned) and
     * the driver and device event areas (4 bytes each, 4-aligned). {@code base} is SET_VRING_BASE's value for a
     * packed ring: bits 0-14 the next avail index, bit 15 its wrap counter, bits 16-30 the used index, bit 31 its
     * wrap counter (QEMU's encoding; a fresh ring is 0x80008000).
     */
    public PackedVirtqueue(GuestMemory memory, int size, MemorySegment ring, MemorySegment driverEvent,
            MemorySegment deviceEvent, int base, boolean eventIdx, boolean indirect) throws VhostUserException {
        if (size <= 0 || size > VhostUser.MAX_QUEUE_SIZE) {
            throw new VhostUserException("packed virtqueue size " + size + " out of range (1..32768)");
        }
        if (ring.byteSize() < (long) DESC_SIZE * size || driverEvent.byteSize() < EVENT_AREA_SIZE
                || deviceEvent.byteSize() < EVENT_AREA_SIZE) {
            throw new VhostUserException("packed virtqueue areas smaller than the queue size needs");
        }
        if ((ring.address() & 15) != 0 || (driverEvent.address() & 3) != 0 || (deviceEvent.address() & 3) != 0) {
            throw new VhostUserException("packed virtqueue areas misaligned");
        }
        int avail = base & 0x7FFF;
        int used = (base >>> 16) & 0x7FFF;
        if (avail >= size || used >= size) {
            throw new VhostUserException("packed virtqueue base 0x" + Integer.toHexString(base) + " past the ring");
        }
        this.memory = memory;
        this.size = size;
        this.ring = ring;
        this.driverEvent = driverEvent;
        this.deviceEvent = deviceEvent;
        this.eventIdx = eventIdx;
        this.indirect = indirect;
        this.lastAvail = avail;
        this.availWrap = (base & 0x8000) != 0;
        this.usedIdx = used;
        this.usedWrap = (base & 0x80000000) != 0;
        this.signalledUsed = used;
    }

    /** Translates the front end's addresses (SET_VRING_ADDR user addresses) and builds the queue. */
    public static PackedVirtqueue map(GuestMemory memory, int size, long ringUser, long driverUser, long deviceUser,
            int base, boolean eventIdx, boolean indirect) throws VhostUserException {
        if (size <= 0 || size > VhostUser.MAX_QUEUE_SIZE) {
            throw new VhostUserException("packed virtqueue size " + size + " out of range (1..32768)");
        }
        MemorySegment r = memory.sliceByUserAddress(ringUser, (long) DESC_SIZE * size);
        MemorySegment d = memory.sliceByUserAddress(driverUser, EVENT_AREA_SIZE);
        MemorySegment e = memory.sliceByUserAddress(deviceUser, EVENT_AREA_SIZE);
        if (r == null || d == null || e == null) {
            throw new VhostUserException("packed virtqueue areas outside guest memory");
        }
        return new PackedVirtqueue(memory, size, r, d, e, base, eventIdx, indirect);
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public boolean isBroken() {
        return broken;
    }

    /** QEMU's encoding: avail index | avail wrap << 15 | (used index | used wrap << 15) << 16. */
    @Override
    public int vringBase() {
        return lastAvail | (availWrap ? 0x8000 : 0) | usedIdx << 16 | (usedWrap ? 0x80000000 : 0);
    }

    private static boolean isAvailable(int flags, boolean wrap) {
        return ((flags & DESC_F_AVAIL) != 0) == wrap && ((flags & DESC_F_USED) != 0) != wrap;
    }

    @Override
    public boolean hasAvailable() {
        return !broken && isAvailable((short) U16.getAcquire(ring, (long) DESC_SIZE * lastAvail + 14) & 0xFFFF,
                availWrap);
    }

    @Override
    public int pop(DescriptorChain chain) {
        if (broken) {
            return BROKEN;
        }
        int flags = (short) U16.getAcquire(ring, (long) DESC_SIZE * lastAvail + 14) & 0xFFFF;
        if (!isAvailable(flags, availWrap)) {
            return EMPTY;
        }
        chain.reset(-1, memory);
        int idx = lastAvail;
        boolean wrap = availWrap;
        int n = 0;
        int error = DescriptorChain.OK;
        int id;
        while (true) {
            long at = (long) DESC_SIZE * idx;
            long addr = ring.get(LE_LONG, at);
            int len = ring.get(LE_INT, at + 8);
            id = ring.get(LE_SHORT, at + 12) & 0xFFFF;
            if (n > 0) {
                flags = ring.get(LE_SHORT, at + 14) & 0xFFFF;
            }
            n++;
            if (error == DescriptorChain.OK) {
                if ((flags & DESC_F_INDIRECT) != 0) {
                    error = n != 1 ? DescriptorChain.E_INDIRECT_IN_CHAIN
                            : (flags & DESC_F_NEXT) != 0 ? DescriptorChain.E_INDIRECT_WITH_NEXT
                            : walkIndirect(chain, addr, len);
                } else {
                    error = chain.addBuffer(addr, len, (flags & DESC_F_WRITE) != 0);
                }
            }
            if ((flags & DESC_F_NEXT) == 0) {
                break;
            }
            if (n == size) { // the chain does not end within the ring: where the next one starts is unknown
                broken = true;
                return BROKEN;
            }
            if (++idx == size) {
                idx = 0;
                wrap = !wrap;
            }
        }
        if (++idx == size) {
            idx = 0;
            wrap = !wrap;
        }
        lastAvail = idx;
        availWrap = wrap;
        chain.head = id;
        chain.ringDescriptors = n;
        if (error == DescriptorChain.OK && id >= size) {
            error = DescriptorChain.E_BUFFER_ID;
        }
        chain.error = error;
        return error == DescriptorChain.OK ? POPPED : MALFORMED;
    }

    private int walkIndirect(DescriptorChain chain, long addr, int len) {
        if (!indirect) {
            return DescriptorChain.E_INDIRECT_NOT_NEGOTIATED;
        }
        long tableLen = len & 0xFFFFFFFFL;
        if (tableLen == 0 || (tableLen & (DESC_SIZE - 1)) != 0 || tableLen / DESC_SIZE > SplitVirtqueue.MAX_INDIRECT) {
            return DescriptorChain.E_INDIRECT_SIZE;
        }
        int r = memory.find(addr, tableLen);
        if (r < 0) {
            return DescriptorChain.E_ADDRESS;
        }
        MemorySegment table = memory.segment(r);
        long base = memory.offset(r, addr);
        int count = (int) (tableLen / DESC_SIZE);
        for (int i = 0; i < count; i++) {
            long at = base + (long) DESC_SIZE * i;
            long a = table.get(LE_LONG, at);
            int l = table.get(LE_INT, at + 8);
            int f = table.get(LE_SHORT, at + 14) & 0xFFFF;
            if ((f & DESC_F_INDIRECT) != 0) {
                return DescriptorChain.E_NESTED_INDIRECT;
            }
            int e = chain.addBuffer(a, l, (f & DESC_F_WRITE) != 0);
            if (e != DescriptorChain.OK) {
                return e;
            }
        }
        return DescriptorChain.OK;
    }

    /** Writes a used descriptor for buffer {@code id} and publishes it at once (its flags, release-stored). */
    @Override
    public void addUsed(int id, int len, int ringDescriptors) {
        long at = (long) DESC_SIZE * usedIdx;
        ring.set(LE_INT, at + 8, len);
        ring.set(LE_SHORT, at + 12, (short) id);
        U16.setRelease(ring, at + 14, (short) (usedWrap ? DESC_F_AVAIL | DESC_F_USED : 0));
        usedIdx += Math.max(1, ringDescriptors);
        if (usedIdx >= size) {
            usedIdx -= size;
            usedWrap = !usedWrap;
        }
    }

    /** Used descriptors are published one by one in {@link #addUsed}. */
    @Override
    public void publishUsed() {}

    /** QEMU's virtio_packed_should_notify. */
    @Override
    public boolean needsNotify() {
        VarHandle.fullFence();
        int offWrap = driverEvent.get(LE_SHORT, 0) & 0xFFFF;
        int flags = driverEvent.get(LE_SHORT, 2) & 0xFFFF;
        int old = signalledUsed;
        boolean valid = signalledUsedValid;
        signalledUsed = usedIdx;
        signalledUsedValid = true;
        if (flags == EVENT_FLAG_DISABLE) {
            return false;
        }
        if (flags != EVENT_FLAG_DESC || !eventIdx) {
            return true;
        }
        if (!valid) {
            return true;
        }
        int off = offWrap & 0x7FFF;
        if (usedWrap != ((offWrap >>> 15) != 0)) {
            off -= size;
        }
        return SplitVirtqueue.needEvent(off & 0xFFFF, usedIdx, old);
    }

    /** QEMU's virtio_queue_packed_set_notification, then a fence and a look at the next descriptor. */
    @Override
    public boolean setNotification(boolean enable) {
        if (!enable) {
            deviceEvent.set(LE_SHORT, 2, (short) EVENT_FLAG_DISABLE);
            return false;
        }
        if (eventIdx) {
            deviceEvent.set(LE_SHORT, 0, (short) (lastAvail | (availWrap ? 0x8000 : 0)));
            VarHandle.storeStoreFence();
            deviceEvent.set(LE_SHORT, 2, (short) EVENT_FLAG_DESC);
        } else {
            deviceEvent.set(LE_SHORT, 2, (short) EVENT_FLAG_ENABLE);
        }
        VarHandle.fullFence();
        return hasAvailable();
    }
}
