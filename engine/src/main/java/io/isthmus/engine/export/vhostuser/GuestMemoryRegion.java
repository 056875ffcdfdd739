package io.isthmus.engine.export.vhostuser;

import io.isthmus.bindings.Posix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One guest memory region mapped into the daemon: a MAP_SHARED mapping of the fd a front end sent with
 * SET_MEM_TABLE or ADD_MEM_REG, reached only through {@link GuestMemory}.
 *
 * <p>Memory: the mapping belongs to this object's shared arena; {@link #close} unmaps it (a shared-arena close, a
 * global handshake: done when the table changes or the session ends, never on the data path). After the close,
 * Java accesses through {@link #segment} fail with IllegalStateException instead of touching unmapped memory;
 * native I/O (io_uring) on its addresses must have been drained before. Thread use: mapped and closed on the
 * session's thread; read by the IoThreads serving the queues in between. Errors: {@link VhostUserException}.
 */
public final class GuestMemoryRegion {
    public final long guestPhysAddr;
    public final long size;
    public final long userAddr;
    public final long mmapOffset;
    private final Arena arena;
    private final MemorySegment segment;

    private GuestMemoryRegion(MemoryRegionDescriptor d, Arena arena, MemorySegment segment) {
        this.guestPhysAddr = d.guestPhysAddr();
        this.size = d.size();
        this.userAddr = d.userAddr();
        this.mmapOffset = d.mmapOffset();
        this.arena = arena;
        this.segment = segment;
    }

    /**
     * Checks a region description on its own: a non-empty size that mmap can take, and guest and user ranges that
     * do not wrap around the 64-bit address space.
     */
    public static void check(MemoryRegionDescriptor d) throws VhostUserException {
        long size = d.size();
        if (size <= 0) { // zero, or above 2^63 (no file is that large)
            throw new VhostUserException("memory region size 0x" + Long.toHexString(size) + " refused: " + d);
        }
        if (Long.compareUnsigned(d.guestPhysAddr(), -size) > 0) {
            throw new VhostUserException("guest address range overflows: " + d);
        }
        if (Long.compareUnsigned(d.userAddr(), -size) > 0) {
            throw new VhostUserException("user address range overflows: " + d);
        }
        if (d.mmapOffset() < 0 || d.mmapOffset() > Long.MAX_VALUE - size) {
            throw new VhostUserException("mmap offset out of range: " + d);
        }
    }

    /**
     * Maps region {@code d} of {@code fd}. Takes the fd and always closes it (mapped or not): the mapping keeps the
     * memory alive. Refuses a region that the fd's size (fstat) cannot back, and any mmap failure.
     */
    public static GuestMemoryRegion map(int fd, MemoryRegionDescriptor d) throws VhostUserException {
        try {
            check(d);
            SharedMapping m = SharedMapping.map(fd, d.mmapOffset(), d.size(), "memory " + d);
            return new GuestMemoryRegion(d, m.arena(), m.segment());
        } finally {
            Posix.close(fd);
        }
    }

    /** The mapped region: guest-physical address {@code guestPhysAddr + i} is byte {@code i}. */
    public MemorySegment segment() {
        return segment;
    }

    public MemoryRegionDescriptor descriptor() {
        return new MemoryRegionDescriptor(guestPhysAddr, size, userAddr, mmapOffset);
    }

    /** Same guest range, user address and size: how REM_MEM_REG names a region (the offset is ignored). */
    public boolean matches(MemoryRegionDescriptor d) {
        return d.guestPhysAddr() == guestPhysAddr && d.size() == size && d.userAddr() == userAddr;
    }

    /** Unmaps the region. Idempotent. */
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    public boolean isMapped() {
        return arena.scope().isAlive();
    }

    @Override
    public String toString() {
        return descriptor().toString();
    }
}
