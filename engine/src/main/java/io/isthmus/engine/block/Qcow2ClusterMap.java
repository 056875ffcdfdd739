package io.isthmus.engine.block;

import static io.isthmus.engine.block.Qcow2Header.BE64;
import static io.isthmus.engine.block.Qcow2Header.COMPRESSED;
import static io.isthmus.engine.block.Qcow2Header.COPIED;
import static io.isthmus.engine.block.Qcow2Header.OFFSET_MASK;
import static io.isthmus.engine.block.Qcow2Header.ZERO_FLAG;

import io.isthmus.bindings.Errno;
import io.isthmus.engine.EngineException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Guest-to-host cluster mapping of a qcow2 image (QEMU's qcow2-cluster.c, with the L2 half of qcow2-cache.c): the L1
 * table, a cache of L2 tables, the lookup of a run of guest clusters ({@link #map}), and the slow paths that change
 * the mapping: allocating writes with copy-on-write, zeroing and discarding whole clusters, growing the L1 table,
 * reading compressed clusters.
 *
 * <p>Metadata is written through as it changes, in an order that keeps the image consistent after a crash (refcounts
 * before the L2 entries that rely on them, new tables before the entries that point to them): cached tables never
 * need writing back, so eviction just drops them.
 *
 * <p>Thread use: any thread holding the node's lock (all methods). Memory: L2 tables and the bounce buffers live in
 * the node's arena. Return convention: 0 (or a length or offset >= 0) or -errno.
 */
final class Qcow2ClusterMap {
    /** Mapping kinds of a run of guest clusters. */
    static final int UNALLOCATED = 0, ZERO = 1, NORMAL = 2, COMPRESSED_CLUSTER = 3;

    /** QEMU's default maximum L2 cache size. */
    private static final int L2_CACHE_BYTES = 32 << 20;

    /**
     * Where a run of guest clusters is, as {@link #map} found it. Owned by one request (its frame state) or one
     * synchronous caller, and overwritten by each lookup: the hot path allocates nothing.
     */
    static final class Mapping {
        /** {@link #UNALLOCATED}, {@link #ZERO}, {@link #NORMAL} or {@link #COMPRESSED_CLUSTER}. */
        int kind;
        /** NORMAL: the host offset of the run's first byte; COMPRESSED_CLUSTER: the L2 entry's descriptor. */
        long host;
        /** The clusters' refcount is exactly 1 (COPIED): written in place without copy-on-write. */
        boolean copied;
    }

    private final FileNode file;
    private final Qcow2Refcounts refcounts;
    private final Arena arena;
    private final int version;
    private final int clusterBits;
    private final int clusterSize;
    private final int l2Bits;
    private final boolean passDiscardRequest;

    private long[] l1;
    private long l1Offset;
    /** Cached L2 tables by L1 index (null: not cached); at most {@link #maxTables}, evicted by a clock hand. */
    private MemorySegment[] l2ByIndex = new MemorySegment[0];
    private int l2Cached;
    private int clockHand;
    private final int maxTables;
    /** Table buffers of evicted tables, reused (the arena frees nothing before close). */
    private final ArrayDeque<MemorySegment> l2Free = new ArrayDeque<>();
    /** One cluster: a decompressed cluster, or a new cluster being assembled (copy-on-write). */
    final MemorySegment bounce;
    private final MemorySegment compressedBuf;
    private final Inflater inflater = new Inflater(true);
    private final long[] tableOffsetScratch = new long[1];

    Qcow2ClusterMap(FileNode file, Qcow2Header h, Qcow2Refcounts refcounts, Arena arena, BlockOptions o) {
        this.file = file;
        this.refcounts = refcounts;
        this.arena = arena;
        this.version = h.version;
        this.clusterBits = h.clusterBits;
        this.clusterSize = h.clusterSize;
        this.l2Bits = h.l2Bits;
        this.passDiscardRequest = o.passDiscardRequest == null || o.passDiscardRequest;
        this.l1Offset = h.l1Offset;
        long wholeImage = (h.size + ((long) clusterSize << l2Bits) - 1) / ((long) clusterSize << l2Bits) + 1;
        long capBytes = o.l2CacheSize != null ? o.l2CacheSize : L2_CACHE_BYTES;
        maxTables = (int) Math.max(2, Math.min(capBytes / clusterSize, Math.max(wholeImage, 2)));
        bounce = arena.allocate(clusterSize, 4096);
        compressedBuf = arena.allocate(2L * clusterSize + 1024, 4096);
    }

    /** Reads the L1 table (open; {@link Qcow2Header#checkTables} has checked it). */
    void load(Qcow2Header h) throws EngineException {
        l1 = Qcow2Header.readTable(file, h.l1Offset, h.l1Size);
        l2ByIndex = new MemorySegment[l1.length];
    }

    void close() {
        inflater.end();
        Arrays.fill(l2ByIndex, null);
    }

    // =============================================================================================================
    // L2 cache

    /** The L2 table of L1 entry {@code l1Index} (at {@code offset}), read on a miss; null on a read error. */
    MemorySegment l2Table(int l1Index, long offset) {
        MemorySegment t = l2ByIndex[l1Index];
        if (t == null) {
            t = takeTableBuffer();
            int r = file.readSync(offset, t);
            if (r < 0) {
                l2Free.push(t);
                return null;
            }
            l2ByIndex[l1Index] = t;
            l2Cached++;
        }
        return t;
    }

    /** A buffer for a table about to enter the cache (evicting one first when the cache is full). */
    private MemorySegment takeTableBuffer() {
        if (l2Cached >= maxTables) {
            int n = l2ByIndex.length;
            for (int i = 0; i < n; i++) {
                int ix = clockHand;
                clockHand = (clockHand + 1) % n;
                if (l2ByIndex[ix] != null) {
                    l2Free.push(l2ByIndex[ix]); // tables are written through: nothing to write back
                    l2ByIndex[ix] = null;
                    l2Cached--;
                    break;
                }
            }
        }
        MemorySegment b = l2Free.poll();
        return b != null ? b : arena.allocate(clusterSize, 4096);
    }

    /** Puts a table in the cache slot of {@code l1Index}, replacing (and recycling) what was there. */
    private void installTable(int l1Index, MemorySegment t) {
        MemorySegment old = l2ByIndex[l1Index];
        if (old != null) {
            l2Free.push(old);
            l2Cached--;
        }
        l2ByIndex[l1Index] = t;
        l2Cached++;
    }

    // =============================================================================================================
    // lookup

    /**
     * Maps [guest, guest + maxLen) as far as its clusters map alike (same kind, same COPIED flag, contiguous on the
     * host for NORMAL; at most one cluster for COMPRESSED_CLUSTER; within one L2 table): describes the run in
     * {@code m} and returns its length (>= 1), or -errno.
     */
    long map(long guest, long maxLen, Mapping m) {
        long inCluster = guest & (clusterSize - 1);
        int l1Index = (int) (guest >>> (clusterBits + l2Bits));
        int l2Index = (int) ((guest >>> clusterBits) & ((1 << l2Bits) - 1));
        long tableLeft = (((long) (1 << l2Bits) - l2Index) << clusterBits) - inCluster;
        long limit = Math.min(maxLen, tableLeft);
        long l1e = l1Index < l1.length ? l1[l1Index] & OFFSET_MASK : 0;
        if (l1e == 0) {
            m.kind = UNALLOCATED;
            m.host = 0;
            m.copied = false;
            return limit;
        }
        MemorySegment t = l2Table(l1Index, l1e);
        if (t == null) {
            return -Errno.EIO;
        }
        long e = t.get(BE64, l2Index * 8L);
        int kind = kindOf(e);
        boolean copied = (e & COPIED) != 0;
        m.kind = kind;
        m.copied = copied;
        if (kind == COMPRESSED_CLUSTER) {
            m.host = e & ~(COPIED | COMPRESSED);
            return Math.min(limit, clusterSize - inCluster);
        }
        long host = e & OFFSET_MASK;
        if (kind == NORMAL && (host & (clusterSize - 1)) != 0) {
            return -Errno.EIO; // corrupt: a data cluster that is not cluster-aligned
        }
        m.host = kind == NORMAL ? host + inCluster : host;
        long run = clusterSize - inCluster;
        int i = l2Index + 1;
        while (run < limit) {
            long f = t.get(BE64, i * 8L);
            if (kindOf(f) != kind || ((f & COPIED) != 0) != copied) {
                break;
            }
            if (kind == NORMAL && (f & OFFSET_MASK) != host + ((long) (i - l2Index) << clusterBits)) {
                break;
            }
            run += clusterSize;
            i++;
        }
        return Math.min(run, limit);
    }

    /** The mapping kind of an L2 entry. */
    int kindOf(long e) {
        if ((e & COMPRESSED) != 0) {
            return COMPRESSED_CLUSTER;
        }
        if (version >= 3 && (e & ZERO_FLAG) != 0) {
            return ZERO;
        }
        return (e & OFFSET_MASK) == 0 ? UNALLOCATED : NORMAL;
    }

    /** The current L2 entry of guest cluster {@code guest} (0 if no table), or Long.MIN_VALUE on a read error. */
    long l2Entry(long guest) {
        int l1Index = (int) (guest >>> (clusterBits + l2Bits));
        long off = l1Index < l1.length ? l1[l1Index] & OFFSET_MASK : 0;
        if (off == 0) {
            return 0;
        }
        MemorySegment t = l2Table(l1Index, off);
        if (t == null) {
            return Long.MIN_VALUE;
        }
        return t.get(BE64, ((guest >>> clusterBits) & ((1 << l2Bits) - 1)) * 8L);
    }

    /** Decompresses the cluster of descriptor {@code desc} into {@link #bounce}. */
    int decompress(long desc) {
        int shift = 62 - (clusterBits - 8);
        long host = desc & ((1L << shift) - 1);
        long sectors = ((desc >>> shift) & ((1L << (clusterBits - 8)) - 1)) + 1;
        long csize = sectors * 512 - (host & 511);
        if (csize <= 0 || csize > compressedBuf.byteSize() - 1) {
            return -Errno.EIO;
        }
        MemorySegment in = compressedBuf.asSlice(0, csize);
        int r = file.readSync(host, in);
        if (r < 0) {
            return r;
        }
        compressedBuf.set(ValueLayout.JAVA_BYTE, csize, (byte) 0); // raw inflate may want one byte past the stream
        inflater.reset();
        inflater.setInput(compressedBuf.asSlice(0, csize + 1).asByteBuffer());
        try {
            int out = inflater.inflate(bounce.asByteBuffer());
            if (out != clusterSize) {
                return -Errno.EIO;
            }
        } catch (DataFormatException e) {
            return -Errno.EIO;
        }
        return 0;
    }

    /** Reads from {@code backing} at {@code guest}, zeroes past its end. */
    static int readBacking(BlockNode backing, long guest, MemorySegment dst) {
        long blen = backing.length();
        if (guest >= blen) {
            dst.fill((byte) 0);
            return 0;
        }
        long n = Math.min(dst.byteSize(), blen - guest);
        if (n < dst.byteSize()) {
            dst.asSlice(n).fill((byte) 0);
        }
        return backing.readSync(guest, dst.asSlice(0, n));
    }

    // =============================================================================================================
    // changing the mapping

    /** Frees what an L2 entry points to (a data cluster, or the clusters holding compressed data). */
    int freeEntry(long e, boolean punch) {
        int kind = kindOf(e);
        if (kind == COMPRESSED_CLUSTER) {
            int shift = 62 - (clusterBits - 8);
            long host = e & ((1L << shift) - 1);
            long sectors = ((e >>> shift) & ((1L << (clusterBits - 8)) - 1)) + 1;
            long last = ((host & ~511L) + sectors * 512 - 1) >>> clusterBits;
            for (long c = host >>> clusterBits; c <= last; c++) {
                int r = refcounts.freeCluster(c, false);
                if (r < 0) {
                    return r;
                }
            }
            return 0;
        }
        long host = e & OFFSET_MASK;
        if (host == 0) {
            return 0;
        }
        return refcounts.freeCluster(host >>> clusterBits, punch);
    }

    /** The L2 table for guest offset {@code guest}, made private (COPIED) and allocated as needed; null on error. */
    private MemorySegment writableL2(long guest, long[] tableOffset) {
        int l1Index = (int) (guest >>> (clusterBits + l2Bits));
        if (l1Index >= l1.length) {
            return null;
        }
        long e = l1[l1Index];
        long off = e & OFFSET_MASK;
        if (off != 0 && (e & COPIED) != 0) {
            tableOffset[0] = off;
            return l2Table(l1Index, off);
        }
        long n = refcounts.allocClusters(1);
        if (n < 0) {
            return null;
        }
        MemorySegment t = takeTableBuffer(); // not in the cache: nothing below evicts it
        if (off != 0) {
            MemorySegment old = l2Table(l1Index, off);
            if (old == null) {
                l2Free.push(t);
                return null;
            }
            MemorySegment.copy(old, 0, t, 0, clusterSize);
        } else {
            t.fill((byte) 0);
        }
        if (file.writeSync(n, t) < 0) {
            l2Free.push(t);
            return null;
        }
        l1[l1Index] = n | COPIED;
        if (writeL1Entry(l1Index) < 0) {
            return null;
        }
        installTable(l1Index, t);
        if (off != 0) {
            refcounts.freeCluster(off >>> clusterBits, false);
        }
        tableOffset[0] = n;
        return t;
    }

    /**
     * Sets the L2 entry of guest cluster {@code guest} to {@code value} and writes it through, then frees what the
     * old entry pointed to (passing a discard to the file if {@code punchOld} and a cluster became free).
     */
    int replaceEntry(long guest, long value, boolean punchOld) {
        MemorySegment t = writableL2(guest, tableOffsetScratch);
        if (t == null) {
            return -Errno.EIO;
        }
        int l2Index = (int) ((guest >>> clusterBits) & ((1 << l2Bits) - 1));
        long old = t.get(BE64, l2Index * 8L);
        t.set(BE64, l2Index * 8L, value);
        int r = file.writeSync(tableOffsetScratch[0] + l2Index * 8L, t.asSlice(l2Index * 8L, 8));
        if (r < 0) {
            return r;
        }
        return freeEntry(old, punchOld);
    }

    /**
     * Writes [guest, guest + len) (within one cluster) to a newly allocated cluster: the cluster's old contents
     * (copy-on-write, from {@code backing} where unallocated) with request bytes from {@code reqOff} of {@code op}
     * over them ({@code zeroes}: zeroes instead), then points the L2 entry at it.
     */
    int allocatingWrite(long guest, long len, Qcow2Node.Op op, long reqOff, boolean zeroes, BlockNode backing) {
        long clusterStart = guest & -(long) clusterSize;
        long e = l2Entry(clusterStart);
        if (e == Long.MIN_VALUE) {
            return -Errno.EIO;
        }
        int kind = kindOf(e);
        long inCluster0 = guest - clusterStart;
        boolean oldIsZero = kind == ZERO || (kind == UNALLOCATED
                && (backing == null || clusterStart >= backing.length()));
        if (len < clusterSize && oldIsZero) {
            // QEMU's handle_alloc_space: the rest of the cluster reads as zeroes, so only the new data is written
            // into a zeroed cluster (a new one past the end of the file is zero already)
            long n = refcounts.allocClusters(1);
            if (n < 0) {
                return (int) n;
            }
            if (file.zeroClusterSync(n, clusterSize) == 0) {
                if (zeroes) {
                    return linkNewCluster(clusterStart, n); // zeroes over zeroes: nothing to write
                }
                MemorySegment data = bounce.asSlice(0, len);
                op.copyOut(reqOff, data);
                return writeAndLink(clusterStart, n, inCluster0, data);
            }
            refcounts.freeCluster(n >>> clusterBits, false); // cannot zero it cheaply: write the whole cluster below
        }
        int r;
        if (len == clusterSize) {
            r = 0;
        } else if (kind == COMPRESSED_CLUSTER) {
            r = decompress(e & ~(COPIED | COMPRESSED));
        } else if (kind == NORMAL) {
            r = file.readSync(e & OFFSET_MASK, bounce);
        } else if (kind == ZERO || backing == null) {
            bounce.fill((byte) 0);
            r = 0;
        } else {
            r = readBacking(backing, clusterStart, bounce);
        }
        if (r < 0) {
            return r;
        }
        long inCluster = guest - clusterStart;
        if (zeroes) {
            bounce.asSlice(inCluster, len).fill((byte) 0);
        } else {
            op.copyOut(reqOff, bounce.asSlice(inCluster, len));
        }
        long n = refcounts.allocClusters(1);
        if (n < 0) {
            return (int) n;
        }
        return writeAndLink(clusterStart, n, 0, bounce);
    }

    /**
     * Writes {@code data} at byte {@code at} of the new host cluster {@code n} (freed again if that fails), then
     * points guest cluster {@code clusterStart} at it: data before the entry that makes it visible.
     */
    private int writeAndLink(long clusterStart, long n, long at, MemorySegment data) {
        int r = file.writeSync(n + at, data);
        if (r < 0) {
            refcounts.freeCluster(n >>> clusterBits, false);
            return r;
        }
        return linkNewCluster(clusterStart, n);
    }

    /** Points guest cluster {@code clusterStart} at host cluster {@code n} and drops what it pointed to before. */
    private int linkNewCluster(long clusterStart, long n) {
        return replaceEntry(clusterStart, n | COPIED, false);
    }

    /**
     * Makes whole clusters [guest, guest + len) read as zeroes: the zero flag (v3), else deallocation ({@code discard}
     * lets an unallocated cluster fall back to {@code backing}); {@code unmap} also frees zero-flagged clusters.
     */
    int zeroClusters(long guest, long len, boolean discard, boolean unmap, BlockNode backing) {
        for (long g = guest; g < guest + len; g += clusterSize) {
            long e = l2Entry(g);
            if (e == Long.MIN_VALUE) {
                return -Errno.EIO;
            }
            int kind = kindOf(e);
            long value;
            if (version >= 3) {
                if (kind == UNALLOCATED && backing == null) {
                    continue; // already reads as zeroes
                }
                if (kind == ZERO && (!unmap || (e & OFFSET_MASK) == 0)) {
                    continue;
                }
                value = ZERO_FLAG;
            } else {
                if (kind == UNALLOCATED && (backing == null || discard)) {
                    continue;
                }
                value = 0;
            }
            int r = replaceEntry(g, value, unmap && passDiscardRequest);
            if (r < 0) {
                return r;
            }
        }
        return 0;
    }

    // =============================================================================================================
    // the L1 table

    int l1Length() {
        return l1.length;
    }

    long l1Entry(int i) {
        return l1[i];
    }

    private int writeL1Entry(int i) {
        return Qcow2Header.writeTableEntry(file, l1Offset, i, l1[i]);
    }

    /** Clears L1 entry {@code i} on disk and drops its table from the cache (the caller frees the table). */
    int clearL1Entry(int i) {
        l1[i] = 0;
        int r = writeL1Entry(i);
        if (r < 0) {
            return r;
        }
        MemorySegment cached = l2ByIndex[i];
        if (cached != null) {
            l2Free.push(cached);
            l2ByIndex[i] = null;
            l2Cached--;
        }
        return 0;
    }

    /**
     * A new L1 table of exactly {@code entries} (QEMU's exact-size growth: the file ends where the table does),
     * switched to in the header once written, then the old table's clusters freed.
     */
    int growL1(int entries, Qcow2Header header) {
        long bytes = entries * 8L;
        int clusters = (int) (Qcow2Header.roundUp(bytes, clusterSize) >>> clusterBits);
        long n = refcounts.allocClusters(clusters);
        if (n < 0) {
            return (int) n;
        }
        long[] nl = Arrays.copyOf(l1, entries);
        int r = Qcow2Header.writeTableSync(file, nl, n, bytes);
        if (r < 0) {
            return r;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment h = a.allocate(12, 8);
            h.set(Qcow2Header.BE32, 0, nl.length);
            h.set(BE64, 4, n);
            r = header.writeFieldsSync(Qcow2Header.L1_SIZE_AT, h);
            if (r < 0) {
                return r;
            }
        }
        long oldOffset = l1Offset;
        int oldClusters = (int) (Qcow2Header.roundUp(l1.length * 8L, clusterSize) >>> clusterBits);
        l1 = nl;
        l2ByIndex = Arrays.copyOf(l2ByIndex, nl.length);
        l1Offset = n;
        if (oldOffset != 0) {
            refcounts.freeRange(oldOffset, oldClusters);
        }
        return 0;
    }
}
