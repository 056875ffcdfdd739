package io.isthmus.engine.export.vhostuser;

import io.isthmus.bindings.Errno;
import io.isthmus.bindings.Posix;
import io.isthmus.bindings.SysMman;
import io.isthmus.bindings.SysStat;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A MAP_SHARED read-write mapping of [offset, offset + length) of a front end's fd (guest memory, the inflight
 * region), in its own shared arena: closing the arena unmaps it, and Java accesses after that fail instead of
 * touching unmapped memory. Refuses an fd that is not a regular file (memfd, shm, hugetlbfs) or whose size
 * (fstat) cannot back the range. The offset need not be page aligned: the mapping starts at the granule below it
 * (st_blksize: the huge page size on hugetlbfs), and the segment covers exactly the range.
 *
 * <p>Thread use: created and closed on the session's thread. Errors: {@link VhostUserException}.
 */
record SharedMapping(Arena arena, MemorySegment segment) {
    private static final long ST_SIZE = SysStat.stat.byteOffset(PathElement.groupElement("st_size"));
    private static final long ST_BLKSIZE = SysStat.stat.byteOffset(PathElement.groupElement("st_blksize"));
    private static final long ST_MODE = SysStat.stat.byteOffset(PathElement.groupElement("st_mode"));
    private static final long PAGE = 4096;
    private static final long MAX_GRANULE = 1L << 30;

    /** Maps the range; {@code offset >= 0}, {@code length > 0} and {@code offset + length} must not overflow. */
    static SharedMapping map(int fd, long offset, long length, String what) throws VhostUserException {
        if (offset < 0 || length <= 0 || offset > Long.MAX_VALUE - length) {
            throw new VhostUserException(what + ": offset 0x" + Long.toHexString(offset) + " length 0x"
                    + Long.toHexString(length) + " out of range");
        }
        long fileSize;
        long granule;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(SysStat.stat);
            int r = Posix.fstat(fd, st);
            if (r < 0) {
                throw new VhostUserException(what + ": fstat failed: " + Errno.name(-r));
            }
            if ((st.get(ValueLayout.JAVA_INT, ST_MODE) & SysStat.S_IFMT) != SysStat.S_IFREG) {
                throw new VhostUserException(what + ": fd is not a regular file (memfd, shm, hugetlbfs)");
            }
            fileSize = st.get(ValueLayout.JAVA_LONG, ST_SIZE);
            long blk = st.get(ValueLayout.JAVA_LONG, ST_BLKSIZE);
            granule = blk >= PAGE && blk <= MAX_GRANULE && Long.bitCount(blk) == 1 ? blk : PAGE;
        }
        if (fileSize < 0 || offset + length > fileSize) {
            throw new VhostUserException(what + ": larger than its fd (offset 0x" + Long.toHexString(offset)
                    + " + length 0x" + Long.toHexString(length) + " > size 0x" + Long.toHexString(fileSize) + ")");
        }
        long mapOffset = offset & -granule;
        long delta = offset - mapOffset;
        long mapLength = length + delta;
        long addr = Posix.mmap(0, mapLength, SysMman.PROT_READ | SysMman.PROT_WRITE,
                SysMman.MAP_SHARED | SysMman.MAP_NORESERVE, fd, mapOffset);
        if (addr < 0) {
            throw new VhostUserException(what + ": mmap failed: " + Errno.name((int) -addr));
        }
        Arena arena = Arena.ofShared();
        MemorySegment seg = MemorySegment.ofAddress(addr + delta).reinterpret(length, arena,
                ignored -> Posix.munmap(addr, mapLength));
        return new SharedMapping(arena, seg);
    }

    void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
