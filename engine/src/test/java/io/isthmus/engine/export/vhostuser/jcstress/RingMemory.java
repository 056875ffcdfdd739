package io.isthmus.engine.export.vhostuser.jcstress;

import static io.isthmus.engine.export.vhostuser.VhostUser.LE_INT;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_LONG;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_SHORT;

import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysMman;
import io.isthmus.engine.export.vhostuser.DescriptorChain;
import io.isthmus.engine.export.vhostuser.GuestMemory;
import io.isthmus.engine.export.vhostuser.GuestMemoryRegion;
import io.isthmus.engine.export.vhostuser.MemoryRegionDescriptor;
import io.isthmus.engine.export.vhostuser.SplitVirtqueue;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One 4-entry split ring in guest memory for a jcstress state, with the driver's (guest's) side of the protocol
 * written here as Linux's virtio_ring does it. Guest memory is one memfd region shared by all states, handed out
 * in 512-byte slots round-robin (jcstress keeps far fewer states alive at once than there are slots); each state
 * zeroes its slot.
 */
final class RingMemory {
    static final int SIZE = 4;
    static final long REGION = 64L << 20;
    static final int SLOT = 512;
    static final GuestMemory MEMORY;
    private static final AtomicLong NEXT = new AtomicLong();
    private static final VarHandle IDX = ValueLayout.JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

    static {
        int fd = Posix.memfdCreate("jcstress-guest", SysMman.MFD_CLOEXEC);
        if (fd < 0 || Posix.ftruncate(fd, REGION) < 0) {
            throw new IllegalStateException("memfd");
        }
        try {
            MEMORY = GuestMemory.of(GuestMemoryRegion.map(fd, new MemoryRegionDescriptor(0, REGION, 0, 0)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    final long base; // guest-physical address of the slot
    final MemorySegment slot;
    final SplitVirtqueue queue;
    final DescriptorChain chain = new DescriptorChain(4);
    static final long DESC = 0, AVAIL = 64, USED = 80, DATA = 128;

    RingMemory(boolean eventIdx) {
        base = (NEXT.getAndIncrement() % (REGION / SLOT)) * SLOT;
        slot = MEMORY.slice(base, SLOT);
        slot.fill((byte) 0);
        try {
            queue = new SplitVirtqueue(MEMORY, SIZE, slot.asSlice(DESC, 64), slot.asSlice(AVAIL, 14),
                    slot.asSlice(USED, 38), 0, eventIdx, false);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Driver: descriptor {@code i} is a device-readable buffer of {@code len} bytes, placed in avail slot i. */
    void prepare(int i, int len) {
        slot.set(LE_LONG, DESC + 16L * i, base + DATA);
        slot.set(LE_INT, DESC + 16L * i + 8, len);
        slot.set(LE_SHORT, DESC + 16L * i + 12, (short) 0);
        slot.set(LE_SHORT, AVAIL + 4 + 2L * i, (short) i);
    }

    /** Driver: publishes the avail index (virtio_store_mb / smp_wmb then store: a release store). */
    void publishAvail(int idx) {
        IDX.setRelease(slot, AVAIL + 2, (short) idx);
    }

    int usedIdxAcquire() {
        return (short) IDX.getAcquire(slot, USED + 2) & 0xFFFF;
    }

    int usedLen(int i) {
        return slot.get(LE_INT, USED + 4 + 8L * i + 4);
    }

    /** Driver: used_event (the last u16 of the avail ring). */
    void setUsedEvent(int idx) {
        slot.set(LE_SHORT, AVAIL + 4 + 2L * SIZE, (short) idx);
    }

    /** Device-written avail_event (the last u16 of the used ring). */
    int availEvent() {
        return slot.get(LE_SHORT, USED + 4 + 8L * SIZE) & 0xFFFF;
    }

    void setAvailEvent(int idx) {
        slot.set(LE_SHORT, USED + 4 + 8L * SIZE, (short) idx);
    }

    int usedFlags() {
        return slot.get(LE_SHORT, USED) & 0xFFFF;
    }
}
