package io.isthmus.engine.block;

import static io.isthmus.engine.block.Qcow2Header.BE16;
import static io.isthmus.engine.block.Qcow2Header.BE32;
import static io.isthmus.engine.block.Qcow2Header.BE64;
import static io.isthmus.engine.block.Qcow2Header.REFT_OFFSET_MASK;

import io.isthmus.bindings.Errno;
import io.isthmus.engine.EngineException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;

/**
 * The refcounts of a qcow2 image and their cache (QEMU's qcow2-refcount.c, with the refcount half of qcow2-cache.c):
 * the refcount table, refcount blocks cached as read (written through as they change, never evicted: small), and
 * cluster allocation and freeing. Every host cluster in use (header, tables, data) has a refcount; a data cluster's
 * refcount is the number of L2 tables that name it (more than one when a snapshot shares it).
 *
 * <p>Allocation searches from a hint for a run of free clusters, creating refcount blocks (and growing the refcount
 * table) as the image grows. A cluster freed while data I/O to the file child is in flight ({@link #dataIoStarted})
 * is quarantined, not reused, until that I/O drains: a late write cannot land in a cluster handed to other data.
 *
 * <p>Thread use: any thread holding the node's lock (all methods). Memory: refcount blocks live in the node's arena.
 * Return convention: 0 (or a value >= 0) or -errno; a refcount that cannot be read is -EIO.
 */
final class Qcow2Refcounts {
    private final FileNode file;
    private final Qcow2Header header;
    private final Arena arena;
    private final int clusterBits;
    private final int clusterSize;
    private final int refcountOrder;
    /** log2 of the refcounts in one refcount block. */
    private final int rbBits;

    private long[] refTable;
    private long refTableOffset;
    private int refTableClusters;
    private final HashMap<Long, MemorySegment> refBlocks = new HashMap<>();
    /** No free cluster below this one (allocation starts its search here). */
    private long freeHint;
    private final HashSet<Long> quarantine = new HashSet<>();
    /** Reads and in-place writes forwarded to the file child and not yet completed. */
    private int dataInFlight;

    Qcow2Refcounts(FileNode file, Qcow2Header header, Arena arena) {
        this.file = file;
        this.header = header;
        this.arena = arena;
        this.clusterBits = header.clusterBits;
        this.clusterSize = header.clusterSize;
        this.refcountOrder = header.refcountOrder;
        this.rbBits = header.rbBits;
        this.refTableOffset = header.refTableOffset;
        this.refTableClusters = header.refTableClusters;
    }

    /** Reads the refcount table (open; {@link Qcow2Header#checkTables} has checked its place). */
    void load() throws EngineException {
        refTable = Qcow2Header.readTable(file, refTableOffset, (int) ((long) refTableClusters * clusterSize / 8));
    }

    void close() {
        refBlocks.clear();
    }

    /** A read or in-place write of guest data went to the file child: freed clusters are quarantined until done. */
    void dataIoStarted() {
        dataInFlight++;
    }

    void dataIoDone() {
        dataInFlight--;
    }

    // ---- refcount blocks

    private MemorySegment refBlock(long offset) {
        MemorySegment b = refBlocks.get(offset);
        if (b == null) {
            b = arena.allocate(clusterSize, 4096);
            if (file.readSync(offset, b) < 0) {
                return null;
            }
            refBlocks.put(offset, b);
        }
        return b;
    }

    private long entryGet(MemorySegment b, long i) {
        return switch (refcountOrder) {
            case 0, 1, 2 -> {
                int bits = 1 << refcountOrder;
                long bitPos = i * bits;
                int v = b.get(ValueLayout.JAVA_BYTE, bitPos >>> 3) & 0xff;
                yield (v >>> (bitPos & 7)) & ((1 << bits) - 1);
            }
            case 3 -> b.get(ValueLayout.JAVA_BYTE, i) & 0xffL;
            case 4 -> b.get(BE16, i * 2) & 0xffffL;
            case 5 -> b.get(BE32, i * 4) & 0xffffffffL;
            default -> b.get(BE64, i * 8);
        };
    }

    /** Sets entry i of block b in memory; returns the byte range {offset, length} of the block that changed. */
    private long entrySet(MemorySegment b, long i, long v) {
        switch (refcountOrder) {
            case 0, 1, 2 -> {
                int bits = 1 << refcountOrder;
                long bitPos = i * bits;
                long byteIx = bitPos >>> 3;
                int mask = ((1 << bits) - 1) << (bitPos & 7);
                int old = b.get(ValueLayout.JAVA_BYTE, byteIx) & 0xff;
                b.set(ValueLayout.JAVA_BYTE, byteIx, (byte) ((old & ~mask) | (((int) v << (bitPos & 7)) & mask)));
                return (byteIx << 8) | 1;
            }
            case 3 -> {
                b.set(ValueLayout.JAVA_BYTE, i, (byte) v);
                return (i << 8) | 1;
            }
            case 4 -> {
                b.set(BE16, i * 2, (short) v);
                return ((i * 2) << 8) | 2;
            }
            case 5 -> {
                b.set(BE32, i * 4, (int) v);
                return ((i * 4) << 8) | 4;
            }
            default -> {
                b.set(BE64, i * 8, v);
                return ((i * 8) << 8) | 8;
            }
        }
    }

    // ---- refcounts

    /** The refcount of cluster {@code c}, or -errno. */
    long refcount(long c) {
        long rti = c >>> rbBits;
        if (rti >= refTable.length) {
            return 0;
        }
        long bo = refTable[(int) rti] & REFT_OFFSET_MASK;
        if (bo == 0) {
            return 0;
        }
        MemorySegment b = refBlock(bo);
        if (b == null) {
            return -Errno.EIO;
        }
        return entryGet(b, c & ((1L << rbBits) - 1));
    }

    /** Sets the refcount of cluster {@code c} (its refcount block must exist) and writes it through. */
    private int setRefcount(long c, long v) {
        long rti = c >>> rbBits;
        long bo = rti < refTable.length ? refTable[(int) rti] & REFT_OFFSET_MASK : 0;
        if (bo == 0) {
            return -Errno.EIO;
        }
        MemorySegment b = refBlock(bo);
        if (b == null) {
            return -Errno.EIO;
        }
        long changed = entrySet(b, c & ((1L << rbBits) - 1), v);
        long off = changed >>> 8;
        int len = (int) (changed & 0xff);
        return file.writeSync(bo + off, b.asSlice(off, len));
    }

    private boolean covered(long c) {
        long rti = c >>> rbBits;
        return rti < refTable.length && (refTable[(int) rti] & REFT_OFFSET_MASK) != 0;
    }

    /** First cluster index past the end of the file. */
    long fileEndCluster() {
        return (file.length() + clusterSize - 1) >>> clusterBits;
    }

    /** The last cluster of the file in use (QEMU's qcow2_get_last_cluster; unreadable counts as used), -1 if none. */
    long lastUsedCluster() {
        long last = fileEndCluster() - 1;
        while (last >= 0) {
            long rc = refcount(last);
            if (rc != 0) {
                break;
            }
            last--;
        }
        return last;
    }

    /** The file was cut at cluster {@code end}: no free cluster is searched past it. */
    void fileCutAt(long end) {
        freeHint = Math.min(freeHint, end);
    }

    // ---- allocation

    /** Allocates {@code n} contiguous free clusters with refcount 1; returns the host offset or -errno. */
    long allocClusters(int n) {
        if (dataInFlight == 0) {
            quarantine.clear();
        }
        long c = freeHint;
        search:
        while (true) {
            for (int i = 0; i < n; i++) {
                long x = c + i;
                if (!covered(x)) {
                    int r = addRefBlock(x);
                    if (r < 0) {
                        return r;
                    }
                    c = x + 1; // x now holds the new refcount block
                    continue search;
                }
                long rc = refcount(x);
                if (rc < 0) {
                    return rc;
                }
                if (rc != 0 || quarantine.contains(x)) {
                    c = x + 1;
                    continue search;
                }
            }
            break;
        }
        for (int i = 0; i < n; i++) {
            int r = setRefcount(c + i, 1);
            if (r < 0) {
                return r;
            }
        }
        if (n == 1 || c == freeHint) {
            freeHint = c + n;
        }
        return c << clusterBits;
    }

    /** Creates the refcount block for the range of (free, uncovered) cluster {@code x}, stored at x itself. */
    private int addRefBlock(long x) {
        long rti = x >>> rbBits;
        if (rti >= refTable.length) {
            int r = growRefTable(rti);
            if (r < 0) {
                return r;
            }
            if (covered(x)) {
                return 0; // the new table's area brought a block for this range
            }
        }
        MemorySegment b = arena.allocate(clusterSize, 4096);
        entrySet(b, x & ((1L << rbBits) - 1), 1);
        long off = x << clusterBits;
        int r = file.writeSync(off, b);
        if (r < 0) {
            return r;
        }
        refBlocks.put(off, b);
        refTable[(int) rti] = off;
        return Qcow2Header.writeTableEntry(file, refTableOffset, (int) rti, refTable[(int) rti]);
    }

    /**
     * Moves the refcount table to a larger one at the end of the file, followed by the refcount blocks that the new
     * area itself needs; the header switches to it once it is on disk, then the old table's clusters are freed.
     */
    private int growRefTable(long neededIndex) {
        long perBlock = 1L << rbBits;
        long start = Math.max(fileEndCluster(), freeHint);
        long entries = Math.max(refTable.length * 2L, neededIndex + 1);
        long tableClusters;
        long blocks = 0;
        while (true) {
            tableClusters = (entries * 8 + clusterSize - 1) >>> clusterBits;
            long end = start + tableClusters + blocks;
            long need = 0;
            for (long r = start / perBlock; r <= (end - 1) / perBlock; r++) {
                if (r >= refTable.length || (refTable[(int) r] & REFT_OFFSET_MASK) == 0) {
                    need++;
                }
            }
            long lastRange = (end - 1) / perBlock;
            if (lastRange + 1 > entries) {
                entries = lastRange + 1;
                continue;
            }
            if (need == blocks) {
                break;
            }
            blocks = need;
        }
        if (entries > (8L << 20) / 8) {
            return -Errno.EFBIG;
        }
        long[] nt = java.util.Arrays.copyOf(refTable, (int) ((tableClusters << clusterBits) / 8));
        long end = start + tableClusters + blocks;
        HashMap<Long, MemorySegment> fresh = new HashMap<>();
        long next = start + tableClusters;
        for (long r = start / perBlock; r <= (end - 1) / perBlock; r++) {
            if (r >= refTable.length || (refTable[(int) r] & REFT_OFFSET_MASK) == 0) {
                long off = next++ << clusterBits;
                nt[(int) r] = off;
                fresh.put(off, arena.allocate(clusterSize, 4096));
            }
        }
        // refcounts of the new area: in the fresh blocks in memory, or written through existing blocks
        for (long x = start; x < end; x++) {
            long r = x / perBlock;
            long bo = nt[(int) r];
            MemorySegment fb = fresh.get(bo);
            if (fb != null) {
                entrySet(fb, x & (perBlock - 1), 1);
            } else {
                int rr = setRefcount(x, 1);
                if (rr < 0) {
                    return rr;
                }
            }
        }
        for (Map.Entry<Long, MemorySegment> e : fresh.entrySet()) {
            int r = file.writeSync(e.getKey(), e.getValue());
            if (r < 0) {
                return r;
            }
        }
        long newTableOffset = start << clusterBits;
        int r = Qcow2Header.writeTableSync(file, nt, newTableOffset, tableClusters << clusterBits);
        if (r < 0) {
            return r;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment hdr = a.allocate(12, 8);
            hdr.set(BE64, 0, newTableOffset);
            hdr.set(BE32, 8, (int) tableClusters);
            r = header.writeFieldsSync(Qcow2Header.REFTABLE_AT, hdr);
            if (r < 0) {
                return r;
            }
        }
        long oldOffset = refTableOffset;
        int oldClusters = refTableClusters;
        refBlocks.putAll(fresh);
        refTable = nt;
        refTableOffset = newTableOffset;
        refTableClusters = (int) tableClusters;
        freeHint = Math.max(freeHint, end);
        freeRange(oldOffset, oldClusters);
        return 0;
    }

    // ---- freeing

    /** Drops one reference to cluster {@code c}; at zero, optionally passes a discard to the file. */
    int freeCluster(long c, boolean punch) {
        long rc = refcount(c);
        if (rc <= 0) {
            return rc < 0 ? (int) rc : 0; // already free: leave it (qemu-img check reports such images)
        }
        int r = setRefcount(c, rc - 1);
        if (r < 0) {
            return r;
        }
        if (rc == 1) {
            if (dataInFlight > 0) {
                quarantine.add(c);
            }
            if (c < freeHint) {
                freeHint = c;
            }
            if (punch) {
                file.punchSync(c << clusterBits, clusterSize);
            }
        }
        return 0;
    }

    /** Drops one reference to each of {@code clusters} clusters from host offset {@code offset} (errors ignored). */
    void freeRange(long offset, int clusters) {
        for (int i = 0; i < clusters; i++) {
            freeCluster((offset >>> clusterBits) + i, false);
        }
    }
}
