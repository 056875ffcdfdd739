package io.isthmus.engine.block;

import static io.isthmus.engine.block.Qcow2ClusterMap.COMPRESSED_CLUSTER;
import static io.isthmus.engine.block.Qcow2ClusterMap.NORMAL;
import static io.isthmus.engine.block.Qcow2Header.BE64;
import static io.isthmus.engine.block.Qcow2Header.COPIED;
import static io.isthmus.engine.block.Qcow2Header.OFFSET_MASK;

import io.isthmus.bindings.Errno;
import io.isthmus.engine.EngineException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * block_resize of a qcow2 image, as QEMU 7.2's qcow2_co_truncate does it (preallocation=off): shrinking discards
 * the clusters past the new end and cuts the file after its last used cluster; growing makes the L1 table large enough
 * (exactly, as QEMU does: the file ends where QEMU's does); then the header's size. Growing allocates nothing else:
 * the new area is unallocated and reads as zeroes (or from the backing file).
 *
 * <p>Thread use: the control thread, node drained, holding the node's lock. Memory: confined arenas per call.
 * Errors: {@link EngineException} with QEMU's texts.
 */
final class Qcow2Resize {
    private final FileNode file;
    private final Qcow2Header header;
    private final Qcow2ClusterMap clusters;
    private final Qcow2Refcounts refcounts;
    private final int clusterBits;
    private final int clusterSize;
    private final int l2Bits;

    Qcow2Resize(FileNode file, Qcow2Header header, Qcow2ClusterMap clusters, Qcow2Refcounts refcounts) {
        this.file = file;
        this.header = header;
        this.clusters = clusters;
        this.refcounts = refcounts;
        this.clusterBits = header.clusterBits;
        this.clusterSize = header.clusterSize;
        this.l2Bits = header.l2Bits;
    }

    /** Changes the image's size from {@code size} to {@code newSize} (a multiple of 512) on disk. */
    void truncate(long size, long newSize, BlockNode backing) throws EngineException {
        if (newSize < size) {
            shrink(newSize, backing);
        }
        long perL1 = (long) clusterSize << l2Bits;
        long need = (newSize + perL1 - 1) / perL1;
        if (need > clusters.l1Length()) {
            int r = clusters.growL1((int) need, header);
            if (r < 0) {
                throw new EngineException("Failed to grow the L1 table: " + Errno.message(r));
            }
        }
        int r = header.writeSize(newSize);
        if (r < 0) {
            throw new EngineException("Failed to update the image size: " + Errno.message(r));
        }
    }

    /**
     * The clusters past the new end are discarded (entries cleared, host clusters freed and punched), L2 tables wholly
     * past it freed and their L1 entries cleared, and the file cut after its last used cluster. A data cluster's
     * refcount is the sum of the refcounts of the L2 tables that name it, so dropping this L1's reference to a table
     * drops one reference to each cluster the table names (shared with a snapshot or not).
     */
    private void shrink(long newSize, BlockNode backing) throws EngineException {
        long perL1 = (long) clusterSize << l2Bits;
        long from = Qcow2Header.roundUp(newSize, clusterSize);
        int keepTables = (int) ((newSize + perL1 - 1) / perL1);
        if (from > newSize) {
            // the last cluster stays: zero its part past the new end, so that growing again reads zeroes there
            long e = clusters.l2Entry(from - clusterSize);
            int kind = e == Long.MIN_VALUE ? -1 : clusters.kindOf(e);
            int r = 0;
            if (kind == NORMAL && (e & COPIED) != 0) {
                try (Arena a = Arena.ofConfined()) {
                    r = file.writeSync((e & OFFSET_MASK) + (newSize & (clusterSize - 1)),
                            a.allocate(from - newSize, 8));
                }
            } else if (kind == NORMAL || kind == COMPRESSED_CLUSTER) {
                r = clusters.allocatingWrite(newSize, from - newSize, null, 0, true, backing);
            } else if (kind < 0) {
                r = -Errno.EIO;
            }
            if (r < 0) {
                throw new EngineException("Failed to discard cropped clusters: " + Errno.message(r));
            }
        }
        int entries = 1 << l2Bits;
        for (int i = 0; i < clusters.l1Length(); i++) {
            long off = clusters.l1Entry(i) & OFFSET_MASK;
            long tableStart = (long) i * perL1;
            if (off == 0 || tableStart + perL1 <= from) {
                continue;
            }
            int r;
            if (i >= keepTables) {
                MemorySegment t = clusters.l2Table(i, off);
                if (t == null) {
                    throw new EngineException("Failed to reduce the number of L2 tables: " + Errno.message(-Errno.EIO));
                }
                for (int k = 0; k < entries; k++) {
                    r = clusters.freeEntry(t.get(BE64, k * 8L), true);
                    if (r < 0) {
                        throw new EngineException("Failed to discard cropped clusters: " + Errno.message(r));
                    }
                }
                r = clusters.clearL1Entry(i);
                if (r < 0) {
                    throw new EngineException("Failed to reduce the number of L2 tables: " + Errno.message(r));
                }
                refcounts.freeCluster(off >>> clusterBits, false);
                continue;
            }
            for (long g = Math.max(from, tableStart); g < tableStart + perL1; g += clusterSize) {
                long e = clusters.l2Entry(g);
                if (e == Long.MIN_VALUE) {
                    throw new EngineException("Failed to discard cropped clusters: " + Errno.message(-Errno.EIO));
                }
                if (e == 0) {
                    continue;
                }
                r = clusters.replaceEntry(g, 0, true);
                if (r < 0) {
                    throw new EngineException("Failed to discard cropped clusters: " + Errno.message(r));
                }
            }
        }
        // the file ends after its last cluster in use
        long end = refcounts.fileEndCluster();
        long last = refcounts.lastUsedCluster();
        if (last + 1 < end) {
            file.truncate((last + 1) << clusterBits);
            refcounts.fileCutAt(last + 1);
        }
    }
}
