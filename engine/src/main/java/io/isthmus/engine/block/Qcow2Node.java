package io.isthmus.engine.block;

import static io.isthmus.engine.block.BlockRequest.*;

import io.isthmus.bindings.Errno;
import io.isthmus.engine.EngineException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * {@code qcow2}: QEMU's copy-on-write image format (docs/interop/qcow2.txt), versions 2 and 3, over a {@link FileNode}
 * {@code file} child, with an optional {@code backing} child (the header's backing file, or one given by node-name).
 *
 * <p>Data path: a request is cut into runs of guest clusters that map alike (see {@link #map}). A run of allocated
 * clusters is forwarded to the file child as the same request, its iovecs narrowed to the run: guest memory goes to
 * the file without a copy. Runs that read as zeroes are zero-filled; unallocated runs are forwarded to the backing
 * node. Runs are handled one after the other (the request carries its progress in its frame state).
 *
 * <p>Slow paths, synchronous on the calling IoThread under the node's lock: metadata reads on a cache miss (L2 tables,
 * refcount blocks), cluster allocation (a write to an unallocated, zero, compressed or shared cluster: the whole new
 * cluster is assembled in a bounce buffer, copy-on-write from the old contents or the backing file, written, and then
 * the L2 entry points to it), write-zeroes and discard of whole clusters, reads of compressed clusters. Metadata is
 * written through as it changes (refcounts before the L2 entries that rely on them, new tables before the entries that
 * point to them), so nothing is left to write back at flush or close: a crash leaks clusters at worst.
 *
 * <p>Not supported (refused at open with a message): encryption, external data files, extended L2 entries, zstd
 * compression, an image with the dirty bit set opened read-write, persistent dirty bitmaps (their autoclear bit is
 * cleared on a read-write open, as the specification asks of a program that does not maintain them). Clusters freed
 * while allocated-cluster I/O is in flight are not reused until it drains, so a late write cannot land in a cluster
 * that was handed to other guest data.
 *
 * <p>Thread use: open, resize and close on the control thread; requests on any IoThread. Mapping state (L1, L2 cache,
 * refcounts) is guarded by {@link #lock}. Memory: tables and bounce buffers live in the node's shared arena, closed
 * with the node. Return convention of the internal helpers: 0 or -errno.
 */
public final class Qcow2Node extends BlockNode {
    private static final int MAGIC = 0x514649fb;
    private static final ValueLayout.OfLong BE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private static final long OFFSET_MASK = 0x00fffffffffffe00L;
    private static final long REFT_OFFSET_MASK = 0xfffffffffffffe00L;
    private static final long COPIED = 1L << 63;
    private static final long COMPRESSED = 1L << 62;
    private static final long ZERO_FLAG = 1L;

    private static final int INCOMPAT_DIRTY = 1, INCOMPAT_CORRUPT = 2, INCOMPAT_DATA_FILE = 4,
            INCOMPAT_COMPRESSION = 8, INCOMPAT_EXTL2 = 16;
    private static final int EXT_BACKING_FORMAT = 0xe2792aca, EXT_DATA_FILE = 0x44415441, EXT_BITMAPS = 0x23852875;
    private static final long AUTOCLEAR_BITMAPS = 1;

    /** Mapping kinds of a run of guest clusters. */
    static final int UNALLOCATED = 0, ZERO = 1, NORMAL = 2, COMPRESSED_CLUSTER = 3;

    private static final int L2_CACHE_BYTES = 32 << 20;

    private final FileNode file;
    private BlockNode backing;
    private final boolean writable;
    private final Arena arena = Arena.ofShared();
    private final Object lock = new Object();
    private final boolean passDiscardRequest;

    // ---- header
    private final int version;
    private final int clusterBits;
    private final int clusterSize;
    private volatile long size;
    private int l1Size;
    private long l1Offset;
    private long refTableOffset;
    private int refTableClusters;
    private final long incompatible;
    private final long compatible;
    private final boolean explicitBacking;
    private final int refcountOrder;
    private final int compressionType;
    private final String backingFile;
    private final String backingFormat;
    private final int l2Bits;
    private final int rbBits;
    /** Autoclear features as on disk (v3; 0 for v2). */
    private long autoclear;

    // ---- persistent bitmaps (under lock): the directory as on disk; empty when the image has none (or they are
    // ignored: autoclear bit 0 clear)
    private java.util.List<Qcow2BitmapDirectory.Entry> bitmapDir = java.util.List.of();
    private int nbBitmaps;
    private long bitmapDirOffset;
    private long bitmapDirSize;
    private boolean bitmapsStored;

    // ---- metadata (under lock)
    private long[] l1;
    private long[] refTable;
    /** Cached L2 tables by L1 index (null: not cached); at most {@link #maxTables}, evicted by a clock hand. */
    private MemorySegment[] l2ByIndex = new MemorySegment[0];
    private int l2Cached;
    private int clockHand;
    private final int maxTables;
    /** Table buffers of evicted tables, reused (the arena frees nothing before close). */
    private final java.util.ArrayDeque<MemorySegment> l2Free = new java.util.ArrayDeque<>();
    private final HashMap<Long, MemorySegment> refBlocks = new HashMap<>();
    private final MemorySegment bounce;
    private final MemorySegment compressedBuf;
    private final Inflater inflater = new Inflater(true);
    private long freeHint;
    private final HashSet<Long> quarantine = new HashSet<>();
    /** Forwards to the file child in flight (reads and in-place writes of allocated clusters). */
    private int dataInFlight;

    // ---- result of map() (under lock, read right after the call)
    private int mapKind;
    private long mapHost;
    private boolean mapCopied;

    private Qcow2Node(String nodeName, BlockOptions o, FileNode file, MemorySegment header, long fileLength)
            throws EngineException {
        super(nodeName, "qcow2", o);
        this.file = file;
        this.writable = !Boolean.TRUE.equals(o.readOnly);
        this.passDiscardRequest = o.passDiscardRequest == null || o.passDiscardRequest;
        version = header.get(BE32, 4);
        clusterBits = header.get(BE32, 20);
        clusterSize = 1 << clusterBits;
        size = header.get(BE64, 24);
        l1Size = header.get(BE32, 36);
        l1Offset = header.get(BE64, 40);
        refTableOffset = header.get(BE64, 48);
        refTableClusters = header.get(BE32, 56);
        int headerLength = version == 2 ? 72 : header.get(BE32, 100);
        incompatible = version == 2 ? 0 : header.get(BE64, 72);
        compatible = version == 2 ? 0 : header.get(BE64, 80);
        explicitBacking = o.backingNone || o.backingRef != null || o.backingInline != null;
        refcountOrder = version == 2 ? 4 : header.get(BE32, 96);
        compressionType = headerLength > 104 ? header.get(ValueLayout.JAVA_BYTE, 104) & 0xff : 0;
        autoclear = version == 2 ? 0 : header.get(BE64, 88);
        l2Bits = clusterBits - 3;
        rbBits = clusterBits + 3 - refcountOrder;

        long backingOffset = header.get(BE64, 8);
        int backingLen = header.get(BE32, 16);
        String bf = null;
        if (backingOffset != 0 && backingLen > 0) {
            if (backingLen > 1023 || backingOffset > clusterSize - backingLen) {
                throw new EngineException("Backing file name too long");
            }
            bf = new String(header.asSlice(backingOffset, backingLen).toArray(ValueLayout.JAVA_BYTE),
                    StandardCharsets.UTF_8);
        }
        backingFile = bf;
        String fmt = null;
        long ext = headerLength;
        while (ext + 8 <= clusterSize) {
            int type = header.get(BE32, ext);
            int len = header.get(BE32, ext + 4);
            if (type == 0) {
                break;
            }
            if (len < 0 || ext + 8 + len > clusterSize) {
                throw new EngineException("qcow2_read_extension: ERROR: ext_backing_format: len=" + len
                        + " too large (>=" + (clusterSize - ext) + ")");
            }
            if (type == EXT_BACKING_FORMAT) {
                fmt = new String(header.asSlice(ext + 8, len).toArray(ValueLayout.JAVA_BYTE),
                        StandardCharsets.UTF_8);
            } else if (type == EXT_DATA_FILE) {
                throw new EngineException("qcow2 images with an external data file are not supported");
            } else if (type == EXT_BITMAPS) {
                if (len != 24) {
                    throw new EngineException("bitmaps_ext: Invalid extension length");
                }
                if ((autoclear & AUTOCLEAR_BITMAPS) != 0) { // else a program without bitmap support wrote: ignore
                    readBitmapsExtension(header.asSlice(ext + 8, 24));
                }
            }
            ext += 8 + ((len + 7L) & ~7L);
        }
        backingFormat = fmt;

        long wholeImage = (size + ((long) clusterSize << l2Bits) - 1) / ((long) clusterSize << l2Bits) + 1;
        long capBytes = o.l2CacheSize != null ? o.l2CacheSize : L2_CACHE_BYTES; // QEMU's default max: 32 MiB
        maxTables = (int) Math.max(2, Math.min(capBytes / clusterSize, Math.max(wholeImage, 2)));
        bounce = arena.allocate(clusterSize, 4096);
        compressedBuf = arena.allocate(2L * clusterSize + 1024, 4096);
        freeHint = 0;
    }

    /** QEMU's checks of the bitmaps extension (qcow2_read_extensions), texts included. */
    private void readBitmapsExtension(MemorySegment e) throws EngineException {
        int nb = e.get(BE32, 0);
        if (e.get(BE32, 4) != 0) {
            throw new EngineException("bitmaps_ext: Reserved field is not zero");
        }
        long dirSize = e.get(BE64, 8);
        long dirOffset = e.get(BE64, 16);
        if (Integer.toUnsignedLong(nb) > Qcow2BitmapDirectory.MAX_BITMAPS) {
            throw new EngineException("bitmaps_ext: Image has " + Integer.toUnsignedString(nb)
                    + " bitmaps, exceeding the QEMU supported maximum of " + Qcow2BitmapDirectory.MAX_BITMAPS);
        }
        if (nb == 0) {
            throw new EngineException("found bitmaps extension with zero bitmaps");
        }
        if ((dirOffset & (clusterSize - 1)) != 0) {
            throw new EngineException("bitmaps_ext: invalid bitmap directory offset");
        }
        if (Long.compareUnsigned(dirSize, Qcow2BitmapDirectory.MAX_DIRECTORY_SIZE) > 0) {
            throw new EngineException("bitmaps_ext: bitmap directory size (" + Long.toUnsignedString(dirSize)
                    + ") exceeds the maximum supported size (" + Qcow2BitmapDirectory.MAX_DIRECTORY_SIZE + ")");
        }
        nbBitmaps = nb;
        bitmapDirSize = dirSize;
        bitmapDirOffset = dirOffset;
    }

    /**
     * Opens a qcow2 node over {@code file} (already a child candidate; the caller adds nothing), with QEMU's checks
     * and texts. The backing child is attached afterwards by the graph ({@link #attachBacking}).
     */
    static Qcow2Node open(String nodeName, BlockOptions o, BlockNode fileNode, boolean fileOwned,
                          java.util.function.Predicate<String> nodeExists) throws EngineException {
        if (!(fileNode instanceof FileNode f)) {
            throw new EngineException("qcow2 over a '" + fileNode.driverName() + "' node is not supported "
                    + "(the file child must be a 'file' or 'host_device' node)");
        }
        boolean writable = !Boolean.TRUE.equals(o.readOnly);
        MemorySegment h;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment first = a.allocate(4096, 4096);
            int r = f.readSync(0, first);
            if (r < 0) {
                throw new EngineException("Could not read qcow2 header: " + Errno.message(r));
            }
            if (first.get(BE32, 0) != MAGIC) {
                throw new EngineException("Image is not in qcow2 format");
            }
            int version = first.get(BE32, 4);
            if (version < 2 || version > 3) {
                throw new EngineException("Unsupported qcow2 version " + version);
            }
            int cb = first.get(BE32, 20);
            if (cb < 9 || cb > 21) {
                throw new EngineException("Unsupported cluster size: 2^" + cb);
            }
            if (version == 3) {
                int hl = first.get(BE32, 100);
                if (hl < 104) {
                    throw new EngineException("qcow2 header too short");
                }
                if (hl > (1 << cb)) {
                    throw new EngineException("qcow2 header exceeds cluster size");
                }
                long incompat = first.get(BE64, 72);
                long known = INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION
                        | INCOMPAT_EXTL2;
                if ((incompat & ~known) != 0) {
                    throw new EngineException("Unsupported qcow2 feature(s): Unknown incompatible feature: "
                            + Long.toHexString(incompat & ~known));
                }
                if ((incompat & INCOMPAT_CORRUPT) != 0 && writable) {
                    throw new EngineException("qcow2: Image is corrupt; cannot be opened read/write");
                }
                if ((incompat & INCOMPAT_DIRTY) != 0 && writable) {
                    throw new EngineException("qcow2: the image is dirty (lazy refcounts); repair it with "
                            + "'qemu-img check -r all' first");
                }
                if ((incompat & INCOMPAT_DATA_FILE) != 0) {
                    throw new EngineException("qcow2 images with an external data file are not supported");
                }
                if ((incompat & INCOMPAT_EXTL2) != 0) {
                    throw new EngineException("qcow2 images with extended L2 entries are not supported");
                }
                if ((incompat & INCOMPAT_COMPRESSION) != 0 && hl > 104 && first.get(ValueLayout.JAVA_BYTE, 104) != 0) {
                    throw new EngineException("qcow2 images with zstd compression are not supported");
                }
                int order = first.get(BE32, 96);
                if (order > 6) {
                    throw new EngineException("Reference count entry width too large; may not exceed 64 bits");
                }
            }
            if (first.get(BE32, 32) != 0) {
                throw new EngineException("qcow2 encryption is not supported");
            }
            checkOptions(o, version, 1 << cb, nodeExists);
            h = readCluster(f, 1 << cb);
        }
        Qcow2Node n = new Qcow2Node(nodeName, o, f, h, f.length());
        try {
            n.loadTables();
            n.loadBitmaps();
        } catch (RuntimeException e) {
            n.arena.close();
            throw e;
        }
        n.addChild("file", fileNode, fileOwned);
        if (writable && n.version == 3) {
            n.clearAutoclear();
        }
        return n;
    }

    /** QEMU's qcow2_update_options checks, in its order, once the header is known. */
    private static void checkOptions(BlockOptions o, int version, int clusterSize,
                                     java.util.function.Predicate<String> nodeExists) throws EngineException {
        if (o.cacheSize != null) {
            if (o.l2CacheSize != null && o.refcountCacheSize != null) {
                throw new EngineException(
                        "cache-size, l2-cache-size and refcount-cache-size may not be set at the same time");
            }
            if (o.l2CacheSize != null && Long.compareUnsigned(o.l2CacheSize, o.cacheSize) > 0) {
                throw new EngineException("l2-cache-size may not exceed cache-size");
            }
            if (o.refcountCacheSize != null && Long.compareUnsigned(o.refcountCacheSize, o.cacheSize) > 0) {
                throw new EngineException("refcount-cache-size may not exceed cache-size");
            }
        }
        if (o.l2CacheEntrySize != null) {
            long e = o.l2CacheEntrySize;
            if (e < 512 || e > clusterSize || Long.bitCount(e) != 1) {
                throw new EngineException("L2 cache entry size must be a power of two between 512 and the cluster "
                        + "size (" + clusterSize + ")");
            }
        }
        if (Boolean.TRUE.equals(o.lazyRefcounts) && version < 3) {
            throw new EngineException(
                    "Lazy refcounts require a qcow2 image with at least qemu 1.1 compatibility level");
        }
        if (o.cacheCleanInterval != null && Long.compareUnsigned(o.cacheCleanInterval, 0xffffffffL) > 0) {
            throw new EngineException("Cache clean interval too big");
        }
        if (o.encryptGiven) {
            throw new EngineException("No encryption in image header, but options specified format '"
                    + (o.encryptFormat == null ? "" : o.encryptFormat) + "'");
        }
        if (o.dataFileGiven) {
            if (o.dataFileRef != null && !o.dataFileRef.isEmpty() && !nodeExists.test(o.dataFileRef)) {
                throw new EngineException("Cannot find device='" + o.dataFileRef + "' nor node-name='"
                        + o.dataFileRef + "'");
            }
            throw new EngineException("'data-file' can only be set for images with an external data file");
        }
    }

    private static MemorySegment readCluster(FileNode f, int cs) throws EngineException {
        MemorySegment s = Arena.ofAuto().allocate(cs, 4096);
        int r = f.readSync(0, s);
        if (r < 0) {
            throw new EngineException("Could not read qcow2 header: " + Errno.message(r));
        }
        return s;
    }

    private void loadTables() throws EngineException {
        long perL1 = (long) clusterSize << l2Bits;
        long needL1 = (size + perL1 - 1) / perL1;
        if (size < 0 || size > (1L << 62)) {
            throw new EngineException("Image is too big");
        }
        if (l1Size < needL1 || l1Size > (32 << 20) / 8) {
            throw new EngineException(l1Size < needL1 ? "L1 table is too small" : "Active L1 table too large");
        }
        if (l1Size > 0 && (l1Offset & (clusterSize - 1)) != 0) {
            throw new EngineException("Invalid L1 table offset");
        }
        if ((refTableOffset & (clusterSize - 1)) != 0 || refTableClusters <= 0
                || refTableClusters > (8 << 20) / clusterSize + 1) {
            throw new EngineException("Invalid reference count table offset");
        }
        l1 = readTable(l1Offset, l1Size);
        l2ByIndex = new MemorySegment[l1.length];
        refTable = readTable(refTableOffset, (int) ((long) refTableClusters * clusterSize / 8));
    }

    private long[] readTable(long offset, int entries) throws EngineException {
        long[] t = new long[entries];
        if (entries == 0) {
            return t;
        }
        long bytes = (long) entries * 8;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(roundUp(bytes, 4096), 4096);
            int r = file.readSync(offset, s);
            if (r < 0) {
                throw new EngineException("Could not read qcow2 metadata: " + Errno.message(r));
            }
            for (int i = 0; i < entries; i++) {
                t[i] = s.get(BE64, i * 8L);
            }
        }
        return t;
    }

    /**
     * A read-write open clears the autoclear bits it does not know (QEMU's QCOW2_AUTOCLEAR_MASK): nothing here
     * maintains what they vouch for. Bit 0 (bitmaps) is maintained here (see the persistent bitmaps section).
     */
    private void clearAutoclear() throws EngineException {
        long keep = autoclear & AUTOCLEAR_BITMAPS;
        if (keep != autoclear) {
            int r = writeAutoclear(keep);
            if (r < 0) {
                throw new EngineException("Could not update qcow2 header: " + Errno.message(r));
            }
        }
    }

    private int writeAutoclear(long v) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment z = a.allocate(8, 8);
            z.set(BE64, 0, v);
            int r = file.writeSync(88, z);
            if (r >= 0) {
                autoclear = v;
            }
            return r;
        }
    }

    /** Attaches the backing child (graph, after open). */
    void attachBacking(BlockNode b, boolean owned) throws EngineException {
        addChild("backing", b, owned);
        backing = b;
    }

    private static long roundUp(long v, long a) {
        return (v + a - 1) & -a;
    }

    // =============================================================================================================
    // properties

    public int clusterSize() {
        return clusterSize;
    }

    public String compat() {
        return version == 2 ? "0.10" : "1.1";
    }

    /**
     * The header's lazy-refcounts compatible feature (what QEMU reports; the option only changes how QEMU writes).
     * Refcounts are always written through here, so the image never needs the repair lazy refcounts imply.
     */
    public boolean lazyRefcounts() {
        return (compatible & 1) != 0;
    }

    public int refcountBits() {
        return 1 << refcountOrder;
    }

    public boolean corrupt() {
        return (incompatible & INCOMPAT_CORRUPT) != 0;
    }

    public boolean extendedL2() {
        return false;
    }

    public String compressionType() {
        return compressionType == 1 ? "zstd" : "zlib";
    }

    public boolean dirtyFlag() {
        return (incompatible & INCOMPAT_DIRTY) != 0;
    }

    public String backingFilename() {
        return backingFile;
    }

    /** QEMU's bdrv_get_full_backing_filename: relative names are relative to the image's directory. */
    public String fullBackingFilename() {
        if (backingFile == null) {
            return null;
        }
        if (backingFile.startsWith("/") || backingFile.contains("://") || backingFile.startsWith("json:")) {
            return backingFile;
        }
        String f = file.filename();
        int slash = f.lastIndexOf('/');
        return slash < 0 ? backingFile : f.substring(0, slash + 1) + backingFile;
    }

    public String backingFormat() {
        return backingFormat;
    }

    public BlockNode backing() {
        return backing;
    }

    public BlockNode file() {
        return file;
    }

    @Override
    public long length() {
        return roundUp(size, 512);
    }

    @Override
    public boolean isReadOnly() {
        return !writable || super.isReadOnly();
    }

    @Override
    public long actualSize() {
        return file.actualSize();
    }

    @Override
    public boolean hasImageInfo() {
        return true;
    }

    /**
     * QEMU's bdrv_refresh_filename: the image file's name, unless the node's options say more than the file does (a
     * backing given explicitly: null, a node or an inline definition), then a "json:" description.
     */
    @Override
    public String filename() {
        return explicitBacking || file.filename().startsWith("json:") ? "json:" + jsonOptions() : file.filename();
    }

    @Override
    String jsonOptions() {
        String b = "";
        if (explicitBacking) {
            b = "\"backing\": " + (backing == null ? "null" : backing.jsonOptions()) + ", ";
        }
        return "{" + b + "\"driver\": \"qcow2\", \"file\": " + file.jsonOptions() + "}";
    }

    @Override
    int[] childPerm(BlockChild c, int perm, int shared) {
        if ("backing".equals(c.name)) {
            // QEMU's bdrv_default_perms_for_cow: read only, and other writers are fine if our parents are
            int p = perm & BlockPerm.CONSISTENT_READ;
            int s = (shared & BlockPerm.WRITE) != 0 ? BlockPerm.WRITE | BlockPerm.RESIZE : 0;
            return new int[] {p, s | BlockPerm.CONSISTENT_READ | BlockPerm.WRITE_UNCHANGED};
        }
        // QEMU's bdrv_default_perms_for_storage: metadata must stay consistent and nobody else may write or resize
        int p = (perm & BlockPerm.ALL) | BlockPerm.CONSISTENT_READ;
        if (writable) {
            p |= BlockPerm.WRITE | BlockPerm.RESIZE;
        }
        int s = ((shared & BlockPerm.ALL) | BlockPerm.CONSISTENT_READ | BlockPerm.WRITE_UNCHANGED)
                & ~(BlockPerm.WRITE | BlockPerm.RESIZE);
        return new int[] {p, s};
    }

    @Override
    void close() {
        if (!closed) {
            storePersistentBitmaps(); // the graph stores them earlier, while the file child is still open
            super.close();
            synchronized (lock) {
                inflater.end();
                java.util.Arrays.fill(l2ByIndex, null);
                refBlocks.clear();
            }
            arena.close();
        }
    }

    // =============================================================================================================
    // metadata (under lock)

    /** The L2 table of L1 entry {@code l1Index} (at {@code offset}), read on a miss; null on a read error. */
    private MemorySegment l2Table(int l1Index, long offset) {
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

    /**
     * Maps [guest, guest + maxLen) as far as its clusters map alike: sets {@link #mapKind}, {@link #mapHost} (the host
     * offset of {@code guest} for NORMAL and COMPRESSED, the L2 entry's descriptor for COMPRESSED) and
     * {@link #mapCopied}; returns the run's length (>= 1), or -errno.
     */
    private long map(long guest, long maxLen) {
        long inCluster = guest & (clusterSize - 1);
        int l1Index = (int) (guest >>> (clusterBits + l2Bits));
        int l2Index = (int) ((guest >>> clusterBits) & ((1 << l2Bits) - 1));
        long tableLeft = (((long) (1 << l2Bits) - l2Index) << clusterBits) - inCluster;
        long limit = Math.min(maxLen, tableLeft);
        long l1e = l1Index < l1.length ? l1[l1Index] & OFFSET_MASK : 0;
        if (l1e == 0) {
            mapKind = UNALLOCATED;
            mapHost = 0;
            mapCopied = false;
            return limit;
        }
        MemorySegment t = l2Table(l1Index, l1e);
        if (t == null) {
            return -Errno.EIO;
        }
        long e = t.get(BE64, l2Index * 8L);
        int kind = kindOf(e);
        mapKind = kind;
        mapCopied = (e & COPIED) != 0;
        if (kind == COMPRESSED_CLUSTER) {
            mapHost = e & ~(COPIED | COMPRESSED);
            return Math.min(limit, clusterSize - inCluster);
        }
        long host = e & OFFSET_MASK;
        if (kind == NORMAL && (host & (clusterSize - 1)) != 0) {
            return -Errno.EIO; // corrupt: a data cluster that is not cluster-aligned
        }
        mapHost = kind == NORMAL ? host + inCluster : host;
        long run = clusterSize - inCluster;
        int i = l2Index + 1;
        while (run < limit) {
            long f = t.get(BE64, i * 8L);
            if (kindOf(f) != kind || ((f & COPIED) != 0) != mapCopied) {
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

    private int kindOf(long e) {
        if ((e & COMPRESSED) != 0) {
            return COMPRESSED_CLUSTER;
        }
        if (version >= 3 && (e & ZERO_FLAG) != 0) {
            return ZERO;
        }
        return (e & OFFSET_MASK) == 0 ? UNALLOCATED : NORMAL;
    }

    /** Decompresses the cluster of descriptor {@code desc} into {@link #bounce}. */
    private int decompress(long desc) {
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

    // ---- refcounts

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

    private long maxRefcount() {
        return refcountOrder == 6 ? Long.MAX_VALUE : (1L << (1 << refcountOrder)) - 1;
    }

    /** The refcount of cluster {@code c}, or -errno. */
    private long refcount(long c) {
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
    private long fileEndCluster() {
        return (file.length() + clusterSize - 1) >>> clusterBits;
    }

    /** Allocates {@code n} contiguous free clusters with refcount 1; returns the host offset or -errno. */
    private long allocClusters(int n) {
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
        return writeRefTableEntry((int) rti);
    }

    private int writeRefTableEntry(int i) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = a.allocate(8, 8);
            e.set(BE64, 0, refTable[i]);
            return file.writeSync(refTableOffset + i * 8L, e);
        }
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
        int r = writeTableSync(nt, newTableOffset, tableClusters << clusterBits);
        if (r < 0) {
            return r;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment hdr = a.allocate(12, 8);
            hdr.set(BE64, 0, newTableOffset);
            hdr.set(BE32, 8, (int) tableClusters);
            r = writeHeaderSync(48, hdr);
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
        for (int i = 0; i < oldClusters; i++) {
            freeCluster((oldOffset >>> clusterBits) + i, false);
        }
        return 0;
    }

    /** Writes a table of big-endian 64-bit entries at {@code offset}, zero-padded to {@code bytes}, and flushes. */
    private int writeTableSync(long[] entries, long offset, long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment t = a.allocate(bytes, 4096);
            for (int i = 0; i < entries.length; i++) {
                t.set(BE64, i * 8L, entries[i]);
            }
            int r = file.writeSync(offset, t);
            return r < 0 ? r : file.flushSync();
        }
    }

    /** Writes header bytes at {@code at} and flushes: the switch to structures already written and flushed. */
    private int writeHeaderSync(long at, MemorySegment field) {
        int r = file.writeSync(at, field);
        return r < 0 ? r : file.flushSync();
    }

    /** Drops one reference to cluster {@code c}; at zero, optionally passes a discard to the file. */
    private int freeCluster(long c, boolean punch) {
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

    /** Frees what an L2 entry points to (a data cluster, or the clusters holding compressed data). */
    private int freeEntry(long e, boolean punch) {
        int kind = kindOf(e);
        if (kind == COMPRESSED_CLUSTER) {
            int shift = 62 - (clusterBits - 8);
            long host = e & ((1L << shift) - 1);
            long sectors = ((e >>> shift) & ((1L << (clusterBits - 8)) - 1)) + 1;
            long last = ((host & ~511L) + sectors * 512 - 1) >>> clusterBits;
            for (long c = host >>> clusterBits; c <= last; c++) {
                int r = freeCluster(c, false);
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
        return freeCluster(host >>> clusterBits, punch);
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
        long n = allocClusters(1);
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
            freeCluster(off >>> clusterBits, false);
        }
        tableOffset[0] = n;
        return t;
    }

    private final long[] tableOffsetScratch = new long[1];

    /** Sets the L2 entry of guest cluster {@code guest} and writes it through; returns the old entry or -errno... */
    private int setL2Entry(long guest, long value, long[] oldOut) {
        MemorySegment t = writableL2(guest, tableOffsetScratch);
        if (t == null) {
            return -Errno.EIO;
        }
        int l2Index = (int) ((guest >>> clusterBits) & ((1 << l2Bits) - 1));
        oldOut[0] = t.get(BE64, l2Index * 8L);
        t.set(BE64, l2Index * 8L, value);
        return file.writeSync(tableOffsetScratch[0] + l2Index * 8L, t.asSlice(l2Index * 8L, 8));
    }

    private final long[] oldEntryScratch = new long[1];

    /** The current L2 entry of guest cluster {@code guest} (0 if no table), or -errno via {@code err}. */
    private long l2Entry(long guest) {
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

    /**
     * Writes [guest, guest + len) (within one cluster) to a newly allocated cluster: the cluster's old contents
     * (copy-on-write) with {@code src} over them ({@code src} null: zeroes), then points the L2 entry at it.
     */
    private int allocatingWrite(long guest, long len, Op op, long reqOff, boolean zeroes) {
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
            long n = allocClusters(1);
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
            freeCluster(n >>> clusterBits, false); // cannot zero it cheaply: write the whole cluster below
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
            r = readBacking(clusterStart, bounce);
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
        long n = allocClusters(1);
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
            freeCluster(n >>> clusterBits, false);
            return r;
        }
        return linkNewCluster(clusterStart, n);
    }

    /** Points guest cluster {@code clusterStart} at host cluster {@code n} and drops what it pointed to before. */
    private int linkNewCluster(long clusterStart, long n) {
        int r = setL2Entry(clusterStart, n | COPIED, oldEntryScratch);
        if (r < 0) {
            return r;
        }
        return freeEntry(oldEntryScratch[0], false);
    }

    /** Reads from the backing node at {@code guest}, zeroes past its end. */
    private int readBacking(long guest, MemorySegment dst) {
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

    /** Makes whole clusters [guest, guest + len) read as zeroes (discard: may fall back to the backing file). */
    private int zeroClusters(long guest, long len, boolean discard, boolean unmap) {
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
            int r = setL2Entry(g, value, oldEntryScratch);
            if (r < 0) {
                return r;
            }
            r = freeEntry(oldEntryScratch[0], unmap && passDiscardRequest);
            if (r < 0) {
                return r;
            }
        }
        return 0;
    }

    // =============================================================================================================
    // requests

    /** A request's progress through its runs, kept in its frame state and reused with the request. */
    static final class Op {
        long start;
        long pos;
        long end;
        int origOp;
        int origFlags;
        long[] iov = new long[8];
        int iovCount;
        boolean syncWrites;
        /** A run is being read from or written in place to the file child (counted in dataInFlight). */
        boolean dataForward;

        void save(BlockRequest req) {
            start = pos = req.offset;
            end = req.offset + req.length;
            origOp = req.op;
            origFlags = req.flags;
            iovCount = req.iovCount;
            if (iov.length < 2 * iovCount) {
                iov = new long[2 * iovCount];
            }
            for (int i = 0; i < iovCount; i++) {
                iov[2 * i] = req.iovBase(i);
                iov[2 * i + 1] = req.iovLen(i);
            }
            syncWrites = false;
        }

        void restore(BlockRequest req) {
            for (int i = 0; i < iovCount; i++) {
                req.setIov(i, iov[2 * i], iov[2 * i + 1]);
            }
            req.iovCount = iovCount;
            req.op = origOp;
            req.flags = origFlags;
        }

        /** Narrows the request's iovecs to bytes [from, from + len) of the original request. */
        void narrow(BlockRequest req, long from, long len) {
            int n = 0;
            long pos = 0;
            long to = from + len;
            for (int i = 0; i < iovCount && pos < to; i++) {
                long b = iov[2 * i];
                long l = iov[2 * i + 1];
                long s = Math.max(from, pos);
                long e = Math.min(to, pos + l);
                if (e > s) {
                    req.setIov(n++, b + (s - pos), e - s);
                }
                pos += l;
            }
            req.iovCount = n;
        }

        private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

        /** Copies request bytes [from, from + dst.size) into dst. */
        void copyOut(long from, MemorySegment dst) {
            walk(from, dst, true);
        }

        /** Copies src into request bytes [from, from + src.size). */
        void copyIn(long from, MemorySegment src) {
            walk(from, src, false);
        }

        void zero(long from, long len) {
            long pos = 0;
            long to = from + len;
            for (int i = 0; i < iovCount && pos < to; i++) {
                long l = iov[2 * i + 1];
                long s = Math.max(from, pos);
                long e = Math.min(to, pos + l);
                if (e > s) {
                    ALL.asSlice(iov[2 * i] + (s - pos), e - s).fill((byte) 0);
                }
                pos += l;
            }
        }

        private void walk(long from, MemorySegment buf, boolean out) {
            long pos = 0;
            long to = from + buf.byteSize();
            for (int i = 0; i < iovCount && pos < to; i++) {
                long l = iov[2 * i + 1];
                long s = Math.max(from, pos);
                long e = Math.min(to, pos + l);
                if (e > s) {
                    MemorySegment m = ALL.asSlice(iov[2 * i] + (s - pos), e - s);
                    if (out) {
                        MemorySegment.copy(m, 0, buf, s - from, e - s);
                    } else {
                        MemorySegment.copy(buf, s - from, m, 0, e - s);
                    }
                }
                pos += l;
            }
        }
    }

    private Op op(BlockRequest req) {
        Object s = frameState(req);
        Op o;
        if (s instanceof Op existing) {
            o = existing;
        } else {
            o = new Op();
            setFrameState(req, o);
        }
        o.save(req);
        return o;
    }

    @Override
    protected void doRead(BlockRequest req) {
        readStep(req, op(req));
    }

    @Override
    protected void doWrite(BlockRequest req) {
        writeStep(req, op(req));
    }

    @Override
    protected void doWriteZeroes(BlockRequest req) {
        writeStep(req, op(req));
    }

    @Override
    protected void doDiscard(BlockRequest req) {
        Op o = op(req);
        long first = roundUp(o.pos, clusterSize);
        long last = o.end == length() && (size & (clusterSize - 1)) != 0 ? roundUp(o.end, clusterSize)
                : o.end & -(long) clusterSize;
        int r = 0;
        if (last > first) {
            synchronized (lock) {
                r = zeroClusters(first, last - first, true, true);
            }
        }
        finish(req, o, r);
    }

    @Override
    protected void doFlush(BlockRequest req) {
        op(req);
        forward(req, file, req.offset);
    }

    @Override
    protected void doBlockStatus(BlockRequest req) {
        Op o = op(req);
        long len;
        int kind;
        synchronized (lock) {
            len = map(o.pos, o.end - o.pos);
            kind = mapKind;
        }
        if (len < 0) {
            finish(req, o, (int) len);
            return;
        }
        req.statusLength = len;
        req.statusDepth = 1;
        switch (kind) {
            case NORMAL, COMPRESSED_CLUSTER -> req.statusFlags = STATUS_DATA | STATUS_ALLOCATED;
            case ZERO -> req.statusFlags = STATUS_ZERO | STATUS_ALLOCATED;
            default -> {
                if (backing == null || o.pos >= backing.length()) {
                    req.statusFlags = STATUS_ZERO;
                    req.statusDepth = 0;
                } else {
                    req.length = Math.min(len, backing.length() - o.pos);
                    o.pos = o.end; // the answer comes back in childDone
                    forward(req, backing, req.offset);
                    return;
                }
            }
        }
        finish(req, o, 0);
    }

    @Override
    protected void childDone(BlockRequest req, int result) {
        Op o = (Op) frameState(req);
        int op = o.origOp;
        if (op == FLUSH) {
            complete(req, result);
            return;
        }
        if (op == BLOCK_STATUS) {
            if (result >= 0) {
                req.statusFlags &= ~STATUS_ALLOCATED;
                if (req.statusDepth > 0) {
                    req.statusDepth++;
                }
            }
            finish(req, o, result);
            return;
        }
        if (o.dataForward) {
            o.dataForward = false;
            synchronized (lock) {
                dataInFlight--;
            }
        }
        if (result < 0) {
            finish(req, o, result);
            return;
        }
        if (op == READ) {
            readStep(req, o);
        } else {
            writeStep(req, o);
        }
    }

    private void readStep(BlockRequest req, Op o) {
        while (o.pos < o.end) {
            long len;
            int kind;
            long host;
            long desc = 0;
            synchronized (lock) {
                len = map(o.pos, o.end - o.pos);
                kind = mapKind;
                host = mapHost;
                if (len > 0 && kind == NORMAL) {
                    dataInFlight++;
                } else if (len > 0 && kind == COMPRESSED_CLUSTER) {
                    int r = decompress(host);
                    if (r < 0) {
                        len = r;
                    } else {
                        long inCluster = o.pos & (clusterSize - 1);
                        o.copyIn(o.pos - o.start, bounce.asSlice(inCluster, len));
                    }
                }
            }
            if (len < 0) {
                finish(req, o, (int) len);
                return;
            }
            long from = o.pos - o.start;
            switch (kind) {
                case NORMAL -> {
                    o.dataForward = true;
                    o.narrow(req, from, len);
                    req.length = len;
                    o.pos += len;
                    forward(req, file, host);
                    return;
                }
                case COMPRESSED_CLUSTER -> o.pos += len;
                case ZERO -> {
                    o.zero(from, len);
                    o.pos += len;
                }
                default -> {
                    long blen = backing == null ? 0 : backing.length();
                    if (o.pos >= blen) {
                        o.zero(from, len);
                        o.pos += len;
                    } else {
                        len = Math.min(len, blen - o.pos);
                        o.narrow(req, from, len);
                        req.length = len;
                        long at = o.pos;
                        o.pos += len;
                        forward(req, backing, at);
                        return;
                    }
                }
            }
        }
        finish(req, o, 0);
    }

    private void writeStep(BlockRequest req, Op o) {
        boolean zeroes = o.origOp == WRITE_ZEROES;
        while (o.pos < o.end) {
            long from = o.pos - o.start;
            if (zeroes) {
                // whole clusters: the zero flag (v3) or deallocation; partial ones are written as zero data
                long first = roundUp(o.pos, clusterSize);
                long last = o.end & -(long) clusterSize;
                if (o.pos == first && last > first && (version >= 3 || backing == null)) {
                    int r;
                    synchronized (lock) {
                        r = zeroClusters(first, last - first, false, (o.origFlags & MAY_UNMAP) != 0);
                    }
                    if (r < 0) {
                        finish(req, o, r);
                        return;
                    }
                    o.syncWrites = true;
                    o.pos = last;
                    continue;
                }
            }
            long len;
            int kind;
            long host;
            boolean copied;
            int r = 0;
            synchronized (lock) {
                long limit = o.end - o.pos;
                if (zeroes) {
                    limit = Math.min(limit, clusterSize - (o.pos & (clusterSize - 1)));
                }
                len = map(o.pos, limit);
                kind = mapKind;
                host = mapHost;
                copied = mapCopied;
                if (len > 0 && kind == NORMAL && copied) {
                    dataInFlight++;
                } else if (len > 0) {
                    len = Math.min(len, clusterSize - (o.pos & (clusterSize - 1)));
                    boolean readsZero = kind == ZERO || (kind == UNALLOCATED && backing == null);
                    if (zeroes && readsZero) {
                        r = 0; // nothing to do
                    } else if (zeroes && (o.origFlags & NO_FALLBACK) != 0) {
                        r = -Errno.ENOTSUP;
                    } else {
                        r = allocatingWrite(o.pos, len, o, from, zeroes);
                        o.syncWrites = true;
                    }
                }
            }
            if (len < 0) {
                finish(req, o, (int) len);
                return;
            }
            if (r < 0) {
                finish(req, o, r);
                return;
            }
            if (kind == NORMAL && copied) {
                o.dataForward = true;
                req.length = len;
                if (zeroes) {
                    req.iovCount = 0;
                    req.flags = o.origFlags & (FUA | NO_FALLBACK);
                } else {
                    o.narrow(req, from, len);
                }
                o.pos += len;
                forward(req, file, host);
                return;
            }
            o.pos += len;
        }
        int r = 0;
        if (o.syncWrites && (o.origFlags & FUA) != 0) {
            r = file.flushSync();
        }
        finish(req, o, r);
    }

    private void finish(BlockRequest req, Op o, int result) {
        o.restore(req);
        complete(req, result);
    }

    // =============================================================================================================
    // synchronous read (this node as the backing file of another)

    @Override
    int readSync(long offset, MemorySegment dst) {
        long n = dst.byteSize();
        long done = 0;
        long len0 = length();
        while (done < n) {
            long pos = offset + done;
            if (pos >= len0) {
                dst.asSlice(done).fill((byte) 0);
                return 0;
            }
            long len;
            int kind;
            long host;
            int r = 0;
            synchronized (lock) {
                len = map(pos, Math.min(n - done, len0 - pos));
                kind = mapKind;
                host = mapHost;
                if (len > 0 && kind == COMPRESSED_CLUSTER) {
                    r = decompress(host);
                    if (r >= 0) {
                        MemorySegment.copy(bounce, pos & (clusterSize - 1), dst, done, len);
                    }
                }
            }
            if (len < 0) {
                return (int) len;
            }
            MemorySegment part = dst.asSlice(done, len);
            switch (kind) {
                case NORMAL -> r = file.readSync(host, part);
                case ZERO -> part.fill((byte) 0);
                case UNALLOCATED -> {
                    if (backing == null) {
                        part.fill((byte) 0);
                    } else {
                        r = readBacking(pos, part);
                    }
                }
                default -> {
                }
            }
            if (r < 0) {
                return r;
            }
            done += len;
        }
        return 0;
    }

    // =============================================================================================================
    // resize (control thread, node drained)

    @Override
    void truncate(long newSize) throws EngineException {
        if (isReadOnly()) {
            throw new EngineException("Image is read-only");
        }
        if ((newSize & 511) != 0) {
            throw new EngineException("The new size must be a multiple of 512");
        }
        checkBitmapsForResize();
        synchronized (lock) {
            if (newSize < size) {
                shrink(newSize);
            }
            long perL1 = (long) clusterSize << l2Bits;
            long need = (newSize + perL1 - 1) / perL1;
            if (need > l1.length) {
                int r = growL1((int) need);
                if (r < 0) {
                    throw new EngineException("Failed to grow the L1 table: " + Errno.message(r));
                }
            }
            try (Arena a = Arena.ofConfined()) {
                MemorySegment s = a.allocate(8, 8);
                s.set(BE64, 0, newSize);
                int r = file.writeSync(24, s);
                if (r < 0) {
                    throw new EngineException("Failed to update the image size: " + Errno.message(r));
                }
            }
            size = newSize;
        }
    }

    /**
     * QEMU's shrinking qcow2_co_truncate: the clusters past the new end are discarded (entries cleared, host clusters
     * freed and punched), L2 tables wholly past it freed and their L1 entries cleared, and the file cut after its last
     * used cluster. A data cluster's refcount is the sum of the refcounts of the L2 tables that name it, so dropping
     * this L1's reference to a table drops one reference to each cluster the table names (shared with a snapshot or
     * not). The header's size follows (in {@link #truncate}). Node drained, under lock.
     */
    private void shrink(long newSize) throws EngineException {
        long perL1 = (long) clusterSize << l2Bits;
        long from = roundUp(newSize, clusterSize);
        int keepTables = (int) ((newSize + perL1 - 1) / perL1);
        if (from > newSize) {
            // the last cluster stays: zero its part past the new end, so that growing again reads zeroes there
            long e = l2Entry(from - clusterSize);
            int kind = e == Long.MIN_VALUE ? -1 : kindOf(e);
            int r = 0;
            if (kind == NORMAL && (e & COPIED) != 0) {
                try (Arena a = Arena.ofConfined()) {
                    r = file.writeSync((e & OFFSET_MASK) + (newSize & (clusterSize - 1)),
                            a.allocate(from - newSize, 8));
                }
            } else if (kind == NORMAL || kind == COMPRESSED_CLUSTER) {
                r = allocatingWrite(newSize, from - newSize, null, 0, true);
            } else if (kind < 0) {
                r = -Errno.EIO;
            }
            if (r < 0) {
                throw new EngineException("Failed to discard cropped clusters: " + Errno.message(r));
            }
        }
        int entries = 1 << l2Bits;
        for (int i = 0; i < l1.length; i++) {
            long off = l1[i] & OFFSET_MASK;
            long tableStart = (long) i * perL1;
            if (off == 0 || tableStart + perL1 <= from) {
                continue;
            }
            int r;
            if (i >= keepTables) {
                MemorySegment t = l2Table(i, off);
                if (t == null) {
                    throw new EngineException("Failed to reduce the number of L2 tables: " + Errno.message(-Errno.EIO));
                }
                for (int k = 0; k < entries; k++) {
                    r = freeEntry(t.get(BE64, k * 8L), true);
                    if (r < 0) {
                        throw new EngineException("Failed to discard cropped clusters: " + Errno.message(r));
                    }
                }
                l1[i] = 0;
                r = writeL1Entry(i);
                if (r < 0) {
                    throw new EngineException("Failed to reduce the number of L2 tables: " + Errno.message(r));
                }
                MemorySegment cached = l2ByIndex[i];
                if (cached != null) {
                    l2Free.push(cached);
                    l2ByIndex[i] = null;
                    l2Cached--;
                }
                freeCluster(off >>> clusterBits, false);
                continue;
            }
            for (long g = Math.max(from, tableStart); g < tableStart + perL1; g += clusterSize) {
                long e = l2Entry(g);
                if (e == Long.MIN_VALUE) {
                    throw new EngineException("Failed to discard cropped clusters: " + Errno.message(-Errno.EIO));
                }
                if (e == 0) {
                    continue;
                }
                r = setL2Entry(g, 0, oldEntryScratch);
                if (r >= 0) {
                    r = freeEntry(oldEntryScratch[0], true);
                }
                if (r < 0) {
                    throw new EngineException("Failed to discard cropped clusters: " + Errno.message(r));
                }
            }
        }
        // the file ends after its last cluster in use
        long end = fileEndCluster();
        long last = end - 1;
        while (last >= 0) {
            long rc = refcount(last);
            if (rc != 0) {
                break;
            }
            last--;
        }
        if (last + 1 < end) {
            file.truncate((last + 1) << clusterBits);
            freeHint = Math.min(freeHint, last + 1);
        }
    }

    private int writeL1Entry(int i) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment le = a.allocate(8, 8);
            le.set(BE64, 0, l1[i]);
            return file.writeSync(l1Offset + i * 8L, le);
        }
    }

    /** A new L1 table of exactly {@code entries} (QEMU's exact-size growth: the file ends where the table does). */
    private int growL1(int entries) {
        long bytes = entries * 8L;
        int clusters = (int) (roundUp(bytes, clusterSize) >>> clusterBits);
        long n = allocClusters(clusters);
        if (n < 0) {
            return (int) n;
        }
        long[] nl = java.util.Arrays.copyOf(l1, entries);
        int r = writeTableSync(nl, n, bytes);
        if (r < 0) {
            return r;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment h = a.allocate(12, 8);
            h.set(BE32, 0, nl.length);
            h.set(BE64, 4, n);
            r = writeHeaderSync(36, h);
            if (r < 0) {
                return r;
            }
        }
        long oldOffset = l1Offset;
        int oldClusters = (int) (roundUp(l1.length * 8L, clusterSize) >>> clusterBits);
        l1 = nl;
        l2ByIndex = java.util.Arrays.copyOf(l2ByIndex, nl.length);
        l1Offset = n;
        l1Size = nl.length;
        for (int i = 0; i < oldClusters && oldOffset != 0; i++) {
            freeCluster((oldOffset >>> clusterBits) + i, false);
        }
        return 0;
    }

    // =============================================================================================================
    // persistent dirty bitmaps (docs/interop/qcow2.txt "Bitmaps extension"; behaviour of QEMU's qcow2-bitmap.c)
    //
    // Open loads the directory and every bitmap's bits into DirtyBitmap objects; a read-write open then marks them
    // in_use on disk, so a crash leaves them inconsistent. Close writes each bitmap anew (data clusters, table), then
    // a new directory, then switches the header extension to it, then frees the old structures: flushes separate the
    // steps, so the header never points at something unwritten. block-dirty-bitmap-remove rewrites the directory at
    // once. Control thread; allocation and freeing under lock.

    /** Loads the bitmaps of the directory (open, before the node is shared). */
    private void loadBitmaps() throws EngineException {
        if (nbBitmaps == 0) {
            return;
        }
        java.util.List<Qcow2BitmapDirectory.Entry> dir = readBitmapDirectory();
        boolean needsInUse = false;
        for (Qcow2BitmapDirectory.Entry e : dir) {
            DirtyBitmap b = createBitmap(e.name, 1L << e.granularityBits, true);
            if (e.inUse()) {
                b.markInconsistent(); // its data is unusable: not loaded
            } else {
                loadBitmapData(e, b);
                needsInUse = true;
            }
            if ((e.flags & Qcow2BitmapDirectory.FLAG_AUTO) == 0) {
                b.setEnabled(false);
            }
            if (!writable) {
                b.setReadOnly(true);
            }
        }
        bitmapDir = new java.util.ArrayList<>(dir);
        if (needsInUse && writable) {
            for (Qcow2BitmapDirectory.Entry e : bitmapDir) {
                e.flags |= Qcow2BitmapDirectory.FLAG_IN_USE;
            }
            int r = writeDirectoryInPlace();
            if (r < 0) {
                throw new EngineException("Can't update bitmap directory: " + Errno.message(r));
            }
        }
    }

    private java.util.List<Qcow2BitmapDirectory.Entry> readBitmapDirectory() throws EngineException {
        if (bitmapDirSize == 0) {
            throw new EngineException("Requested bitmap directory size is zero");
        }
        if (bitmapDirSize > Qcow2BitmapDirectory.MAX_DIRECTORY_SIZE) {
            throw new EngineException("Requested bitmap directory size is too big");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = a.allocate(bitmapDirSize, 8);
            int r = file.readSync(bitmapDirOffset, d);
            if (r < 0) {
                throw new EngineException("Failed to read bitmap directory: " + Errno.message(r));
            }
            return Qcow2BitmapDirectory.decode(d, nbBitmaps, clusterSize, length());
        }
    }

    /** A bitmap table (QEMU's bitmap_table_load with check_table_entry), or null if an entry is invalid. */
    private long[] readBitmapTable(long offset, int entries) throws EngineException {
        long[] t = readTable(offset, entries);
        for (long e : t) {
            long off = e & Qcow2BitmapDirectory.TABLE_OFFSET_MASK;
            if ((e & Qcow2BitmapDirectory.TABLE_RESERVED) != 0
                    || (off != 0 && ((e & Qcow2BitmapDirectory.TABLE_ALL_ONES) != 0 || (off & (clusterSize - 1)) != 0))) {
                return null;
            }
        }
        return t;
    }

    /** Bitmap table entries needed for a bitmap of this granularity over the node's current length. */
    private long bitmapTableSize(int granularityBits) {
        long bytes = Qcow2BitmapDirectory.bytesNeeded(length(), granularityBits);
        return (bytes + clusterSize - 1) >>> clusterBits;
    }

    private void loadBitmapData(Qcow2BitmapDirectory.Entry e, DirtyBitmap b) throws EngineException {
        long[] table = readBitmapTable(e.tableOffset, e.tableSize);
        if (table == null) {
            throw new EngineException("Could not read bitmap_table table from image for bitmap '" + e.name
                    + "': Invalid argument");
        }
        if (bitmapTableSize(e.granularityBits) != e.tableSize) {
            throw new EngineException("Could not read bitmap '" + e.name + "' from image: Invalid argument");
        }
        int wordsPerCluster = clusterSize / 8;
        int words = b.wordCount();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(clusterSize, 4096);
            for (int i = 0; i < table.length; i++) {
                long off = table[i] & Qcow2BitmapDirectory.TABLE_OFFSET_MASK;
                long first = (long) i * wordsPerCluster;
                int last = (int) Math.min(words, first + wordsPerCluster);
                if (off == 0) {
                    if ((table[i] & Qcow2BitmapDirectory.TABLE_ALL_ONES) != 0) {
                        for (int w = (int) first; w < last; w++) {
                            b.orWord(w, -1L);
                        }
                    }
                    continue;
                }
                int r = file.readSync(off, buf);
                if (r < 0) {
                    throw new EngineException("Could not read bitmap '" + e.name + "' from image: "
                            + Errno.message(r));
                }
                for (int w = (int) first; w < last; w++) {
                    b.orWord(w, buf.get(LE64, (w - first) * 8));
                }
            }
        }
    }

    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * QEMU's update_ext_header_and_dir_in_place: autoclear bit 0 off, the directory rewritten where it is, then the
     * bit back on, each step flushed (a crash in between leaves the bitmaps ignored, never half-written).
     */
    private int writeDirectoryInPlace() {
        long size = Qcow2BitmapDirectory.size(bitmapDir);
        if (size != bitmapDirSize) {
            return -Errno.EINVAL;
        }
        int r = writeAutoclear(autoclear & ~AUTOCLEAR_BITMAPS);
        if (r >= 0) {
            r = file.flushSync();
        }
        if (r < 0) {
            return r;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = a.allocate(size, 8);
            Qcow2BitmapDirectory.encode(bitmapDir, d);
            r = file.writeSync(bitmapDirOffset, d);
        }
        if (r >= 0) {
            r = file.flushSync();
        }
        if (r < 0) {
            return r;
        }
        r = writeAutoclear(autoclear | AUTOCLEAR_BITMAPS);
        return r < 0 ? r : file.flushSync();
    }

    @Override
    public boolean canStorePersistentBitmaps() {
        return version >= 3;
    }

    @Override
    public long defaultBitmapGranularity() {
        return Math.min(65536, Math.max(4096, clusterSize));
    }

    /** QEMU's qcow2_co_can_store_new_dirty_bitmap (with check_constraints_on_bitmap), texts and order included. */
    @Override
    void checkCanStoreBitmap(String name, long granularity) throws EngineException {
        String prefix = "Can't make bitmap '" + name + "' persistent in '" + nodeName() + "': ";
        if (version < 3) {
            throw new EngineException(prefix + "Cannot store dirty bitmaps in qcow2 v2 files");
        }
        int gb = Long.numberOfTrailingZeros(granularity);
        if (gb > Qcow2BitmapDirectory.MAX_GRANULARITY_BITS) {
            throw new EngineException(prefix + "Granularity exceeds maximum (2147483648 bytes)");
        }
        if (gb < Qcow2BitmapDirectory.MIN_GRANULARITY_BITS) {
            throw new EngineException(prefix + "Granularity is under minimum (512 bytes)");
        }
        if (!bitmapFits(gb)) {
            throw new EngineException(prefix + "Too much space will be occupied by the bitmap. "
                    + "Use larger granularity");
        }
        int nameBytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (nameBytes > Qcow2BitmapDirectory.MAX_NAME_SIZE) {
            throw new EngineException(prefix + "Name length exceeds maximum (" + Qcow2BitmapDirectory.MAX_NAME_SIZE
                    + " characters)");
        }
        synchronized (lock) {
            if (bitmapDir.isEmpty()) {
                return;
            }
            if (bitmapDir.size() >= Qcow2BitmapDirectory.MAX_BITMAPS) {
                throw new EngineException(prefix + "Maximum number of persistent bitmaps is already reached");
            }
            if (bitmapDirSize + Qcow2BitmapDirectory.entrySize(nameBytes) > Qcow2BitmapDirectory.MAX_DIRECTORY_SIZE) {
                throw new EngineException(prefix + "Not enough space in the bitmap directory");
            }
            for (Qcow2BitmapDirectory.Entry e : bitmapDir) {
                if (e.name.equals(name)) {
                    throw new EngineException(prefix + "Bitmap with the same name is already stored");
                }
            }
        }
    }

    /** QEMU 7.2's size limit of a bitmap over this image (check_constraints_on_bitmap). */
    private boolean bitmapFits(int gb) {
        long len = length();
        long bytes = Qcow2BitmapDirectory.bytesNeeded(len, gb);
        return bytes <= Qcow2BitmapDirectory.MAX_PHYS_SIZE
                && bytes <= Qcow2BitmapDirectory.MAX_TABLE_SIZE * clusterSize;
    }

    /** QEMU's qcow2_co_remove_persistent_dirty_bitmap: a new directory without it, then its clusters freed. */
    @Override
    void removePersistentBitmap(String name) throws EngineException {
        synchronized (lock) {
            Qcow2BitmapDirectory.Entry found = null;
            for (Qcow2BitmapDirectory.Entry e : bitmapDir) {
                if (e.name.equals(name)) {
                    found = e;
                }
            }
            if (found == null) {
                return; // not stored yet: nothing on disk
            }
            java.util.List<Qcow2BitmapDirectory.Entry> nd = new java.util.ArrayList<>(bitmapDir);
            nd.remove(found);
            int r = switchDirectory(nd);
            if (r < 0) {
                throw new EngineException("Failed to update bitmap extension: " + Errno.message(r));
            }
            freeBitmapClusters(found.tableOffset, found.tableSize);
        }
    }

    /** Frees a bitmap table and the data clusters it points to (QEMU's free_bitmap_clusters). */
    private void freeBitmapClusters(long tableOffset, int tableSize) {
        long[] t;
        try {
            t = readBitmapTable(tableOffset, tableSize);
        } catch (EngineException e) {
            return; // unreadable: leaked (qemu-img check -r leaks repairs it)
        }
        if (t == null) {
            return;
        }
        for (long e : t) {
            long off = e & Qcow2BitmapDirectory.TABLE_OFFSET_MASK;
            if (off != 0) {
                freeCluster(off >>> clusterBits, false);
            }
        }
        long clusters = (tableSize * 8L + clusterSize - 1) >>> clusterBits;
        for (long i = 0; i < clusters; i++) {
            freeCluster((tableOffset >>> clusterBits) + i, false);
        }
    }

    /**
     * QEMU's update_ext_header_and_dir: writes {@code nd} to new clusters and flushes, switches the header extension
     * (and autoclear bit 0) to it and flushes, then frees the old directory. An empty list drops the extension.
     */
    private int switchDirectory(java.util.List<Qcow2BitmapDirectory.Entry> nd) {
        long newOffset = 0;
        long newSize = 0;
        long newAutoclear = autoclear & ~AUTOCLEAR_BITMAPS;
        if (!nd.isEmpty()) {
            if (nd.size() > Qcow2BitmapDirectory.MAX_BITMAPS) {
                return -Errno.EINVAL;
            }
            newSize = Qcow2BitmapDirectory.size(nd);
            if (newSize > Qcow2BitmapDirectory.MAX_DIRECTORY_SIZE) {
                return -Errno.EINVAL;
            }
            int clusters = (int) ((newSize + clusterSize - 1) >>> clusterBits);
            newOffset = allocClusters(clusters);
            if (newOffset < 0) {
                return (int) newOffset;
            }
            int r;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment d = a.allocate((long) clusters << clusterBits, 4096);
                Qcow2BitmapDirectory.encode(nd, d);
                r = file.writeSync(newOffset, d.asSlice(0, newSize)); // as QEMU: the file ends with the directory
            }
            if (r >= 0) {
                r = file.flushSync();
            }
            if (r < 0) {
                freeRange(newOffset, clusters);
                return r;
            }
            newAutoclear |= AUTOCLEAR_BITMAPS;
        }
        int r = rewriteHeaderExtensions(nd.size(), newSize, newOffset, newAutoclear);
        if (r >= 0) {
            r = file.flushSync();
        }
        if (r < 0) {
            if (newOffset > 0) {
                freeRange(newOffset, (int) ((newSize + clusterSize - 1) >>> clusterBits));
            }
            return r;
        }
        long oldOffset = bitmapDirOffset;
        long oldSize = bitmapDirSize;
        bitmapDir = new java.util.ArrayList<>(nd);
        nbBitmaps = nd.size();
        bitmapDirOffset = newOffset;
        bitmapDirSize = newSize;
        if (oldSize > 0) {
            freeRange(oldOffset, (int) ((oldSize + clusterSize - 1) >>> clusterBits));
        }
        return 0;
    }

    private void freeRange(long offset, int clusters) {
        for (int i = 0; i < clusters; i++) {
            freeCluster((offset >>> clusterBits) + i, false);
        }
    }

    /**
     * Rewrites the header cluster with the bitmaps extension set to these values (dropped when {@code nb} is 0) and
     * the autoclear features: the other extensions are kept in their order, the backing file name follows the end
     * marker, as QEMU's qcow2_update_header lays them out. One write of the header cluster.
     */
    private int rewriteHeaderExtensions(int nb, long dirSize, long dirOffset, long newAutoclear) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment old = a.allocate(clusterSize, 4096);
            int r = file.readSync(0, old);
            if (r < 0) {
                return r;
            }
            int headerLength = old.get(BE32, 100);
            MemorySegment h = a.allocate(clusterSize, 4096);
            MemorySegment.copy(old, 0, h, 0, headerLength);
            h.set(BE64, 88, newAutoclear);
            long in = headerLength;
            long out = headerLength;
            while (in + 8 <= clusterSize) {
                int type = old.get(BE32, in);
                int len = old.get(BE32, in + 4);
                if (type == 0) {
                    break;
                }
                long padded = 8 + ((len + 7L) & ~7L);
                if (len < 0 || in + padded > clusterSize) {
                    return -Errno.EINVAL;
                }
                if (type != EXT_BITMAPS) {
                    MemorySegment.copy(old, in, h, out, padded);
                    out += padded;
                }
                in += padded;
            }
            if (nb > 0) {
                if (out + 32 > clusterSize) {
                    return -Errno.ENOSPC;
                }
                h.set(BE32, out, EXT_BITMAPS);
                h.set(BE32, out + 4, 24);
                h.set(BE32, out + 8, nb);
                h.set(BE32, out + 12, 0);
                h.set(BE64, out + 16, dirSize);
                h.set(BE64, out + 24, dirOffset);
                out += 32;
            }
            if (out + 8 > clusterSize) {
                return -Errno.ENOSPC;
            }
            out += 8; // end marker (zeroes)
            long backingOffset = old.get(BE64, 8);
            int backingLen = old.get(BE32, 16);
            if (backingOffset != 0 && backingLen > 0) {
                if (out + backingLen > clusterSize) {
                    return -Errno.ENOSPC;
                }
                MemorySegment.copy(old, backingOffset, h, out, backingLen);
                h.set(BE64, 8, out);
            }
            r = file.writeSync(0, h);
            if (r >= 0) {
                autoclear = newAutoclear;
            }
            return r;
        }
    }

    /**
     * QEMU's qcow2_store_persistent_dirty_bitmaps at close: every persistent, consistent bitmap is written anew, the
     * directory is switched to one listing them (in_use cleared, auto = recording), then the old tables are freed.
     */
    @Override
    void storePersistentBitmaps() {
        if (bitmapsStored || closed) {
            return;
        }
        bitmapsStored = true;
        java.util.List<DirtyBitmap> toStore = new java.util.ArrayList<>();
        for (DirtyBitmap b : bitmaps()) {
            if (b.isPersistent() && !b.isInconsistent() && !b.isReadOnly()) {
                toStore.add(b);
            }
        }
        if (toStore.isEmpty()) {
            return;
        }
        String err = null;
        if (!writable) {
            err = "No write access";
        } else {
            synchronized (lock) {
                err = storeBitmaps(toStore);
            }
        }
        if (err != null) {
            System.err.println("Lost persistent bitmaps during inactivation of node '" + nodeName() + "': " + err);
        }
    }

    /** Writes the bitmaps and switches the directory; null, or QEMU's error text. Under lock. */
    private String storeBitmaps(java.util.List<DirtyBitmap> toStore) {
        java.util.List<Qcow2BitmapDirectory.Entry> nd = new java.util.ArrayList<>();
        for (Qcow2BitmapDirectory.Entry e : bitmapDir) {
            nd.add(e.copy());
        }
        java.util.List<long[]> dropTables = new java.util.ArrayList<>();
        long dirSize = bitmapDirSize;
        for (DirtyBitmap b : toStore) {
            int gb = Long.numberOfTrailingZeros(b.granularity());
            if (gb > Qcow2BitmapDirectory.MAX_GRANULARITY_BITS || !bitmapFits(gb)
                    || b.name().getBytes(StandardCharsets.UTF_8).length > Qcow2BitmapDirectory.MAX_NAME_SIZE) {
                return "Bitmap '" + b.name() + "' doesn't satisfy the constraints";
            }
            Qcow2BitmapDirectory.Entry e = null;
            for (Qcow2BitmapDirectory.Entry x : nd) {
                if (x.name.equals(b.name())) {
                    e = x;
                }
            }
            if (e == null) {
                if (nd.size() + 1 > Qcow2BitmapDirectory.MAX_BITMAPS) {
                    return "Too many persistent bitmaps";
                }
                dirSize += Qcow2BitmapDirectory.entrySize(b.name());
                if (dirSize > Qcow2BitmapDirectory.MAX_DIRECTORY_SIZE) {
                    return "Bitmap directory is too large";
                }
                e = new Qcow2BitmapDirectory.Entry(b.name(), 0, gb, 0, 0);
                nd.add(e);
            } else {
                if (!e.inUse()) {
                    return "Bitmap '" + b.name() + "' already exists in the image";
                }
                dropTables.add(new long[] {e.tableOffset, e.tableSize});
            }
            e.flags = b.isEnabled() ? Qcow2BitmapDirectory.FLAG_AUTO : 0;
            e.granularityBits = gb;
            String r = storeBitmap(b, e);
            if (r != null) {
                return r;
            }
        }
        int r = file.flushSync(); // data and tables are on disk before the directory that points to them
        if (r < 0) {
            return "Failed to update bitmap extension: " + Errno.message(r);
        }
        r = switchDirectory(nd);
        if (r < 0) {
            return "Failed to update bitmap extension: " + Errno.message(r);
        }
        for (long[] t : dropTables) {
            freeBitmapClusters(t[0], (int) t[1]);
        }
        return null;
    }

    /**
     * Writes a bitmap's data clusters and table (QEMU's store_bitmap): an all-clear cluster is table entry 0, an
     * all-set one entry 1, others a data cluster holding the bits little-endian. Sets the entry's table.
     */
    private String storeBitmap(DirtyBitmap b, Qcow2BitmapDirectory.Entry e) {
        long tableSize = bitmapTableSize(e.granularityBits);
        if (tableSize > Qcow2BitmapDirectory.MAX_TABLE_SIZE
                || tableSize * clusterSize > Qcow2BitmapDirectory.MAX_PHYS_SIZE || tableSize == 0) {
            return "Bitmap '" + b.name() + "' is too big";
        }
        long[] table = new long[(int) tableSize];
        int wordsPerCluster = clusterSize / 8;
        int words = b.wordCount();
        long granules = b.granules();
        long granulesPerCluster = (long) clusterSize * 8;
        int tableClusters = (int) ((tableSize * 8 + clusterSize - 1) >>> clusterBits);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(clusterSize, 4096);
            for (int i = 0; i < table.length; i++) {
                int first = i * wordsPerCluster;
                int last = Math.min(words, first + wordsPerCluster);
                long gEnd = Math.min(granules, (i + 1) * granulesPerCluster);
                boolean zero = true;
                boolean ones = true;
                for (int w = first; w < last; w++) {
                    long v = b.word(w);
                    long g0 = (long) w << 6;
                    long valid = gEnd - g0 >= 64 ? -1L : (1L << (gEnd - g0)) - 1;
                    zero &= (v & valid) == 0;
                    ones &= (v & valid) == valid;
                }
                if (zero) {
                    continue;
                }
                if (ones) {
                    table[i] = Qcow2BitmapDirectory.TABLE_ALL_ONES;
                    continue;
                }
                buf.fill((byte) 0);
                for (int w = first; w < last; w++) {
                    buf.set(LE64, (long) (w - first) * 8, b.word(w));
                }
                long off = allocClusters(1);
                if (off < 0) {
                    freeDataClusters(table);
                    return "Failed to allocate clusters for bitmap '" + b.name() + "': " + Errno.message((int) off);
                }
                table[i] = off;
                int r = file.writeSync(off, buf);
                if (r < 0) {
                    freeDataClusters(table);
                    return "Failed to write bitmap '" + b.name() + "' to file: " + Errno.message(r);
                }
            }
            long to = allocClusters(tableClusters);
            if (to < 0) {
                freeDataClusters(table);
                return "Failed to allocate clusters for bitmap '" + b.name() + "': " + Errno.message((int) to);
            }
            MemorySegment t = a.allocate((long) tableClusters << clusterBits, 4096);
            for (int i = 0; i < table.length; i++) {
                t.set(BE64, i * 8L, table[i]);
            }
            int r = file.writeSync(to, t.asSlice(0, tableSize * 8)); // as QEMU: just the table's bytes
            if (r < 0) {
                freeDataClusters(table);
                freeRange(to, tableClusters);
                return "Failed to write bitmap '" + b.name() + "' to file: " + Errno.message(r);
            }
            e.tableOffset = to;
            e.tableSize = (int) tableSize;
        }
        return null;
    }

    private void freeDataClusters(long[] table) {
        for (long e : table) {
            long off = e & Qcow2BitmapDirectory.TABLE_OFFSET_MASK;
            if (off != 0) {
                freeCluster(off >>> clusterBits, false);
            }
        }
    }

    /** QEMU's qcow2_truncate_bitmaps_check: every stored bitmap must be in memory and usable. */
    private void checkBitmapsForResize() throws EngineException {
        synchronized (lock) {
            for (Qcow2BitmapDirectory.Entry e : bitmapDir) {
                DirtyBitmap b = findBitmap(e.name);
                if (b == null) {
                    throw new EngineException("Cannot resize qcow2 with persistent bitmaps that were not loaded "
                            + "into memory");
                }
                BlockGraph.check(b, true, true);
            }
        }
    }

    /** The bitmaps stored in the image (name, granularity, flags), as qemu-img info lists them. */
    public java.util.List<StoredBitmap> storedBitmaps() {
        synchronized (lock) {
            java.util.List<StoredBitmap> l = new java.util.ArrayList<>();
            for (Qcow2BitmapDirectory.Entry e : bitmapDir) {
                l.add(new StoredBitmap(e.name, 1L << e.granularityBits, e.inUse(),
                        (e.flags & Qcow2BitmapDirectory.FLAG_AUTO) != 0));
            }
            return l;
        }
    }

    /** A bitmap directory entry as QMP's Qcow2BitmapInfo shows it. */
    public record StoredBitmap(String name, long granularity, boolean inUse, boolean auto) {
    }
}
