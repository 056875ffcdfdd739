package io.isthmus.engine.block;

import static io.isthmus.engine.block.Qcow2Header.AUTOCLEAR_BITMAPS;
import static io.isthmus.engine.block.Qcow2Header.BE64;

import io.isthmus.bindings.Errno;
import io.isthmus.engine.EngineException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Persistent dirty bitmaps of a qcow2 image (docs/interop/qcow2.txt "Bitmaps extension"; the behaviour of QEMU's
 * qcow2-bitmap.c). {@link Qcow2BitmapDirectory} encodes and decodes the directory; this class reads and writes the
 * bitmaps, their tables and the directory, and keeps the header extension pointing at the current directory.
 *
 * <p>Open loads the directory and every bitmap's bits into {@link DirtyBitmap} objects of the node; a read-write open
 * then marks them in_use on disk, so a crash leaves them inconsistent. Close writes each bitmap anew (data clusters,
 * table), then a new directory, then switches the header extension to it, then frees the old structures: flushes
 * separate the steps, so the header never points at something unwritten. block-dirty-bitmap-remove rewrites the
 * directory at once.
 *
 * <p>Thread use: the control thread, holding the node's lock (except {@link #load}, at open, before the node is
 * shared). Memory: confined arenas per call. Errors: exceptions or QEMU's texts, as each method says.
 */
final class Qcow2Bitmaps {
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final FileNode file;
    private final Qcow2Header header;
    private final Qcow2Refcounts refcounts;
    private final int clusterBits;
    private final int clusterSize;
    private final boolean writable;

    /** The directory as on disk; empty when the image has none (or they are ignored: autoclear bit 0 clear). */
    private List<Qcow2BitmapDirectory.Entry> dir = List.of();
    private int nbBitmaps;
    private long dirOffset;
    private long dirSize;
    private boolean stored;

    Qcow2Bitmaps(FileNode file, Qcow2Header header, Qcow2Refcounts refcounts, boolean writable) {
        this.file = file;
        this.header = header;
        this.refcounts = refcounts;
        this.clusterBits = header.clusterBits;
        this.clusterSize = header.clusterSize;
        this.writable = writable;
        this.nbBitmaps = header.nbBitmaps;
        this.dirOffset = header.bitmapDirOffset;
        this.dirSize = header.bitmapDirSize;
    }

    // =============================================================================================================
    // open

    /** Loads the bitmaps of the directory into {@code node} (open, before the node is shared). */
    void load(Qcow2Node node) throws EngineException {
        if (nbBitmaps == 0) {
            return;
        }
        List<Qcow2BitmapDirectory.Entry> d = readDirectory(node.length());
        boolean needsInUse = false;
        for (Qcow2BitmapDirectory.Entry e : d) {
            DirtyBitmap b = node.createBitmap(e.name, 1L << e.granularityBits, true);
            if (e.inUse()) {
                b.markInconsistent(); // its data is unusable: not loaded
            } else {
                loadBitmapData(e, b, node.length());
                needsInUse = true;
            }
            if ((e.flags & Qcow2BitmapDirectory.FLAG_AUTO) == 0) {
                b.setEnabled(false);
            }
            if (!writable) {
                b.setReadOnly(true);
            }
        }
        dir = new ArrayList<>(d);
        if (needsInUse && writable) {
            for (Qcow2BitmapDirectory.Entry e : dir) {
                e.flags |= Qcow2BitmapDirectory.FLAG_IN_USE;
            }
            int r = writeDirectoryInPlace();
            if (r < 0) {
                throw new EngineException("Can't update bitmap directory: " + Errno.message(r));
            }
        }
    }

    private List<Qcow2BitmapDirectory.Entry> readDirectory(long length) throws EngineException {
        if (dirSize == 0) {
            throw new EngineException("Requested bitmap directory size is zero");
        }
        if (dirSize > Qcow2BitmapDirectory.MAX_DIRECTORY_SIZE) {
            throw new EngineException("Requested bitmap directory size is too big");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = a.allocate(dirSize, 8);
            int r = file.readSync(dirOffset, d);
            if (r < 0) {
                throw new EngineException("Failed to read bitmap directory: " + Errno.message(r));
            }
            return Qcow2BitmapDirectory.decode(d, nbBitmaps, clusterSize, length);
        }
    }

    /** A bitmap table (QEMU's bitmap_table_load with check_table_entry), or null if an entry is invalid. */
    private long[] readBitmapTable(long offset, int entries) throws EngineException {
        long[] t = Qcow2Header.readTable(file, offset, entries);
        for (long e : t) {
            long off = e & Qcow2BitmapDirectory.TABLE_OFFSET_MASK;
            if ((e & Qcow2BitmapDirectory.TABLE_RESERVED) != 0
                    || (off != 0 && ((e & Qcow2BitmapDirectory.TABLE_ALL_ONES) != 0 || (off & (clusterSize - 1)) != 0))) {
                return null;
            }
        }
        return t;
    }

    /** Bitmap table entries needed for a bitmap of this granularity over {@code length} bytes. */
    private long bitmapTableSize(int granularityBits, long length) {
        long bytes = Qcow2BitmapDirectory.bytesNeeded(length, granularityBits);
        return (bytes + clusterSize - 1) >>> clusterBits;
    }

    private void loadBitmapData(Qcow2BitmapDirectory.Entry e, DirtyBitmap b, long length) throws EngineException {
        long[] table = readBitmapTable(e.tableOffset, e.tableSize);
        if (table == null) {
            throw new EngineException("Could not read bitmap_table table from image for bitmap '" + e.name
                    + "': Invalid argument");
        }
        if (bitmapTableSize(e.granularityBits, length) != e.tableSize) {
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

    /**
     * QEMU's update_ext_header_and_dir_in_place: autoclear bit 0 off, the directory rewritten where it is, then the
     * bit back on, each step flushed (a crash in between leaves the bitmaps ignored, never half-written).
     */
    private int writeDirectoryInPlace() {
        long size = Qcow2BitmapDirectory.size(dir);
        if (size != dirSize) {
            return -Errno.EINVAL;
        }
        int r = header.writeAutoclear(header.autoclear & ~AUTOCLEAR_BITMAPS);
        if (r >= 0) {
            r = file.flushSync();
        }
        if (r < 0) {
            return r;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = a.allocate(size, 8);
            Qcow2BitmapDirectory.encode(dir, d);
            r = file.writeSync(dirOffset, d);
        }
        if (r >= 0) {
            r = file.flushSync();
        }
        if (r < 0) {
            return r;
        }
        r = header.writeAutoclear(header.autoclear | AUTOCLEAR_BITMAPS);
        return r < 0 ? r : file.flushSync();
    }

    // =============================================================================================================
    // adding, removing, resizing (QMP commands)

    /**
     * QEMU's qcow2_co_can_store_new_dirty_bitmap (with check_constraints_on_bitmap), texts and order included.
     * {@code prefix} starts each message.
     */
    void checkCanStore(String name, long granularity, long length, String prefix) throws EngineException {
        if (header.version < 3) {
            throw new EngineException(prefix + "Cannot store dirty bitmaps in qcow2 v2 files");
        }
        int gb = Long.numberOfTrailingZeros(granularity);
        if (gb > Qcow2BitmapDirectory.MAX_GRANULARITY_BITS) {
            throw new EngineException(prefix + "Granularity exceeds maximum (2147483648 bytes)");
        }
        if (gb < Qcow2BitmapDirectory.MIN_GRANULARITY_BITS) {
            throw new EngineException(prefix + "Granularity is under minimum (512 bytes)");
        }
        if (!fits(gb, length)) {
            throw new EngineException(prefix + "Too much space will be occupied by the bitmap. "
                    + "Use larger granularity");
        }
        int nameBytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (nameBytes > Qcow2BitmapDirectory.MAX_NAME_SIZE) {
            throw new EngineException(prefix + "Name length exceeds maximum (" + Qcow2BitmapDirectory.MAX_NAME_SIZE
                    + " characters)");
        }
        if (dir.isEmpty()) {
            return;
        }
        if (dir.size() >= Qcow2BitmapDirectory.MAX_BITMAPS) {
            throw new EngineException(prefix + "Maximum number of persistent bitmaps is already reached");
        }
        if (dirSize + Qcow2BitmapDirectory.entrySize(nameBytes) > Qcow2BitmapDirectory.MAX_DIRECTORY_SIZE) {
            throw new EngineException(prefix + "Not enough space in the bitmap directory");
        }
        if (entry(dir, name) != null) {
            throw new EngineException(prefix + "Bitmap with the same name is already stored");
        }
    }

    /** QEMU 7.2's size limit of a bitmap over {@code length} bytes (check_constraints_on_bitmap). */
    private boolean fits(int gb, long length) {
        long bytes = Qcow2BitmapDirectory.bytesNeeded(length, gb);
        return bytes <= Qcow2BitmapDirectory.MAX_PHYS_SIZE
                && bytes <= Qcow2BitmapDirectory.MAX_TABLE_SIZE * clusterSize;
    }

    /** The last entry named {@code name}, or null. */
    private static Qcow2BitmapDirectory.Entry entry(List<Qcow2BitmapDirectory.Entry> d, String name) {
        Qcow2BitmapDirectory.Entry found = null;
        for (Qcow2BitmapDirectory.Entry e : d) {
            if (e.name.equals(name)) {
                found = e;
            }
        }
        return found;
    }

    /** QEMU's qcow2_co_remove_persistent_dirty_bitmap: a new directory without it, then its clusters freed. */
    void remove(String name) throws EngineException {
        Qcow2BitmapDirectory.Entry found = entry(dir, name);
        if (found == null) {
            return; // not stored yet: nothing on disk
        }
        List<Qcow2BitmapDirectory.Entry> nd = new ArrayList<>(dir);
        nd.remove(found);
        int r = switchDirectory(nd);
        if (r < 0) {
            throw new EngineException("Failed to update bitmap extension: " + Errno.message(r));
        }
        freeBitmapClusters(found.tableOffset, found.tableSize);
    }

    /** QEMU's qcow2_truncate_bitmaps_check: every stored bitmap must be in memory and usable. */
    void checkForResize(BlockNode node) throws EngineException {
        for (Qcow2BitmapDirectory.Entry e : dir) {
            DirtyBitmap b = node.findBitmap(e.name);
            if (b == null) {
                throw new EngineException("Cannot resize qcow2 with persistent bitmaps that were not loaded "
                        + "into memory");
            }
            BlockGraph.check(b, true, true);
        }
    }

    /** The bitmaps stored in the image, as qemu-img info lists them. */
    List<Qcow2Node.StoredBitmap> stored() {
        List<Qcow2Node.StoredBitmap> l = new ArrayList<>();
        for (Qcow2BitmapDirectory.Entry e : dir) {
            l.add(new Qcow2Node.StoredBitmap(e.name, 1L << e.granularityBits, e.inUse(),
                    (e.flags & Qcow2BitmapDirectory.FLAG_AUTO) != 0));
        }
        return l;
    }

    // =============================================================================================================
    // the directory and the clusters of bitmaps

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
        freeDataClusters(t);
        refcounts.freeRange(tableOffset, (int) ((tableSize * 8L + clusterSize - 1) >>> clusterBits));
    }

    private void freeDataClusters(long[] table) {
        for (long e : table) {
            long off = e & Qcow2BitmapDirectory.TABLE_OFFSET_MASK;
            if (off != 0) {
                refcounts.freeCluster(off >>> clusterBits, false);
            }
        }
    }

    /**
     * QEMU's update_ext_header_and_dir: writes {@code nd} to new clusters and flushes, switches the header extension
     * (and autoclear bit 0) to it and flushes, then frees the old directory. An empty list drops the extension.
     */
    private int switchDirectory(List<Qcow2BitmapDirectory.Entry> nd) {
        long newOffset = 0;
        long newSize = 0;
        long newAutoclear = header.autoclear & ~AUTOCLEAR_BITMAPS;
        if (!nd.isEmpty()) {
            if (nd.size() > Qcow2BitmapDirectory.MAX_BITMAPS) {
                return -Errno.EINVAL;
            }
            newSize = Qcow2BitmapDirectory.size(nd);
            if (newSize > Qcow2BitmapDirectory.MAX_DIRECTORY_SIZE) {
                return -Errno.EINVAL;
            }
            int clusters = (int) ((newSize + clusterSize - 1) >>> clusterBits);
            newOffset = refcounts.allocClusters(clusters);
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
                refcounts.freeRange(newOffset, clusters);
                return r;
            }
            newAutoclear |= AUTOCLEAR_BITMAPS;
        }
        int r = header.rewriteBitmapsExtension(nd.size(), newSize, newOffset, newAutoclear);
        if (r >= 0) {
            r = file.flushSync();
        }
        if (r < 0) {
            if (newOffset > 0) {
                refcounts.freeRange(newOffset, (int) ((newSize + clusterSize - 1) >>> clusterBits));
            }
            return r;
        }
        long oldOffset = dirOffset;
        long oldSize = dirSize;
        dir = new ArrayList<>(nd);
        nbBitmaps = nd.size();
        dirOffset = newOffset;
        dirSize = newSize;
        if (oldSize > 0) {
            refcounts.freeRange(oldOffset, (int) ((oldSize + clusterSize - 1) >>> clusterBits));
        }
        return 0;
    }

    // =============================================================================================================
    // close

    /**
     * QEMU's qcow2_store_persistent_dirty_bitmaps at close: every persistent, consistent bitmap of {@code node} is
     * written anew, the directory is switched to one listing them (in_use cleared, auto = recording), then the old
     * tables are freed. Once per node. Returns null, or QEMU's error text (the caller reports it).
     */
    String store(BlockNode node) {
        if (stored) {
            return null;
        }
        stored = true;
        List<DirtyBitmap> toStore = new ArrayList<>();
        for (DirtyBitmap b : node.bitmaps()) {
            if (b.isPersistent() && !b.isInconsistent() && !b.isReadOnly()) {
                toStore.add(b);
            }
        }
        if (toStore.isEmpty()) {
            return null;
        }
        if (!writable) {
            return "No write access";
        }
        return storeBitmaps(toStore, node.length());
    }

    /** Writes the bitmaps and switches the directory; null, or QEMU's error text. */
    private String storeBitmaps(List<DirtyBitmap> toStore, long length) {
        List<Qcow2BitmapDirectory.Entry> nd = new ArrayList<>();
        for (Qcow2BitmapDirectory.Entry e : dir) {
            nd.add(e.copy());
        }
        List<long[]> dropTables = new ArrayList<>();
        long newDirSize = dirSize;
        for (DirtyBitmap b : toStore) {
            int gb = Long.numberOfTrailingZeros(b.granularity());
            if (gb > Qcow2BitmapDirectory.MAX_GRANULARITY_BITS || !fits(gb, length)
                    || b.name().getBytes(StandardCharsets.UTF_8).length > Qcow2BitmapDirectory.MAX_NAME_SIZE) {
                return "Bitmap '" + b.name() + "' doesn't satisfy the constraints";
            }
            Qcow2BitmapDirectory.Entry e = entry(nd, b.name());
            if (e == null) {
                if (nd.size() + 1 > Qcow2BitmapDirectory.MAX_BITMAPS) {
                    return "Too many persistent bitmaps";
                }
                newDirSize += Qcow2BitmapDirectory.entrySize(b.name());
                if (newDirSize > Qcow2BitmapDirectory.MAX_DIRECTORY_SIZE) {
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
            String r = storeBitmap(b, e, length);
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
    private String storeBitmap(DirtyBitmap b, Qcow2BitmapDirectory.Entry e, long length) {
        long tableSize = bitmapTableSize(e.granularityBits, length);
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
                long off = refcounts.allocClusters(1);
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
            long to = refcounts.allocClusters(tableClusters);
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
                refcounts.freeRange(to, tableClusters);
                return "Failed to write bitmap '" + b.name() + "' to file: " + Errno.message(r);
            }
            e.tableOffset = to;
            e.tableSize = (int) tableSize;
        }
        return null;
    }
}
