package io.isthmus.engine.export.vhostuser;

import static io.isthmus.engine.export.vhostuser.VhostUser.LE_INT;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_LONG;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_SHORT;

import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysMman;
import java.lang.foreign.MemorySegment;

/**
 * Test support: guest memory in a memfd (one region at {@code gpa}, the front end's user address {@code uaddr}),
 * and a driver-side view of a split ring laid out in it, so tests can play the guest.
 */
final class TestGuest implements AutoCloseable {
    final GuestMemory memory;
    final MemorySegment mem;
    final long gpa;
    final long uaddr;

    // ring layout (guest-physical addresses) when ring() was called
    int size;
    long descGpa, availGpa, usedGpa;
    int availIdx;

    private TestGuest(GuestMemory memory, long gpa, long uaddr) {
        this.memory = memory;
        this.mem = memory.segment(0);
        this.gpa = gpa;
        this.uaddr = uaddr;
    }

    static int memfd(long size) {
        int fd = Posix.memfdCreate("test-guest", SysMman.MFD_CLOEXEC);
        if (fd < 0 || Posix.ftruncate(fd, size) < 0) {
            throw new IllegalStateException("memfd " + fd);
        }
        return fd;
    }

    static TestGuest create(long gpa, long size, long uaddr) throws VhostUserException {
        int fd = memfd(size);
        GuestMemoryRegion r = GuestMemoryRegion.map(fd, new MemoryRegionDescriptor(gpa, size, uaddr, 0));
        return new TestGuest(GuestMemory.of(r), gpa, uaddr);
    }

    /** Lays out a split ring of {@code size} entries at guest address {@code at}. */
    void ring(int size, long at) {
        this.size = size;
        descGpa = at;
        availGpa = descGpa + 16L * size;
        usedGpa = (availGpa + 6 + 2L * size + 3) & ~3L;
        availIdx = 0;
    }

    SplitVirtqueue queue(boolean eventIdx, boolean indirect) throws VhostUserException {
        return SplitVirtqueue.map(memory, size, descGpa - gpa + uaddr, availGpa - gpa + uaddr,
                usedGpa - gpa + uaddr, 0, eventIdx, indirect);
    }

    long off(long guestAddr) {
        return guestAddr - gpa;
    }

    void desc(int i, long addr, int len, int flags, int next) {
        descAt(descGpa, i, addr, len, flags, next);
    }

    void descAt(long table, int i, long addr, int len, int flags, int next) {
        long o = off(table) + 16L * i;
        mem.set(LE_LONG, o, addr);
        mem.set(LE_INT, o + 8, len);
        mem.set(LE_SHORT, o + 12, (short) flags);
        mem.set(LE_SHORT, o + 14, (short) next);
    }

    /** Makes head {@code head} available and publishes the new avail index. */
    void offer(int head) {
        mem.set(LE_SHORT, off(availGpa) + 4 + 2L * (availIdx % size), (short) head);
        availIdx = (availIdx + 1) & 0xFFFF;
        setAvailIdx(availIdx);
    }

    void setAvailIdx(int idx) {
        java.lang.invoke.VarHandle.releaseFence();
        mem.set(LE_SHORT, off(availGpa) + 2, (short) idx);
    }

    void setAvailFlags(int flags) {
        mem.set(LE_SHORT, off(availGpa), (short) flags);
    }

    void setUsedEvent(int idx) {
        mem.set(LE_SHORT, off(availGpa) + 4 + 2L * size, (short) idx);
    }

    int availEvent() {
        return mem.get(LE_SHORT, off(usedGpa) + 4 + 8L * size) & 0xFFFF;
    }

    int usedFlags() {
        return mem.get(LE_SHORT, off(usedGpa)) & 0xFFFF;
    }

    int usedIdx() {
        return mem.get(LE_SHORT, off(usedGpa) + 2) & 0xFFFF;
    }

    int usedId(int i) {
        return mem.get(LE_INT, off(usedGpa) + 4 + 8L * (i % size));
    }

    int usedLen(int i) {
        return mem.get(LE_INT, off(usedGpa) + 4 + 8L * (i % size) + 4);
    }

    @Override
    public void close() {
        memory.closeAll();
    }
}
