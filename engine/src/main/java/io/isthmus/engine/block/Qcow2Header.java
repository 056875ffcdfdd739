package io.isthmus.engine.block;

import io.isthmus.bindings.Errno;
import io.isthmus.engine.EngineException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;

/**
 * The header of a qcow2 image (docs/interop/qcow2.txt, "Header" and "Header extensions"): the format's constants,
 * QEMU's checks at open (qcow2_do_open, qcow2_update_options, qcow2_read_extensions) with its texts, and the header
 * writes made after open (autoclear features, the extension area rewritten for the bitmaps extension). Also the I/O
 * of tables of big-endian 64-bit entries (L1, refcount table, bitmap tables).
 *
 * <p>The fields are the header as read at open. The parts that change later belong to the class that changes them:
 * the L1 table's place to {@link Qcow2ClusterMap}, the refcount table's to {@link Qcow2Refcounts}, the bitmap
 * directory's to {@link Qcow2Bitmaps}, the size to {@link Qcow2Node}; only {@link #autoclear} is kept current here.
 *
 * <p>Thread use: read on the control thread at open; the writes run on the control thread under the node's lock.
 * Memory: confined arenas per call. Return convention of the writes: 0 or -errno.
 */
final class Qcow2Header {
    static final int MAGIC = 0x514649fb;
    static final ValueLayout.OfLong BE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** Host offset bits of an L1 or L2 entry. */
    static final long OFFSET_MASK = 0x00fffffffffffe00L;
    /** Offset bits of a refcount table entry. */
    static final long REFT_OFFSET_MASK = 0xfffffffffffffe00L;
    /** L1/L2 entry flags: refcount exactly 1 (writable in place), compressed cluster, reads as zeroes (v3). */
    static final long COPIED = 1L << 63, COMPRESSED = 1L << 62, ZERO_FLAG = 1L;

    static final int INCOMPAT_DIRTY = 1, INCOMPAT_CORRUPT = 2, INCOMPAT_DATA_FILE = 4,
            INCOMPAT_COMPRESSION = 8, INCOMPAT_EXTL2 = 16;
    static final int EXT_BACKING_FORMAT = 0xe2792aca, EXT_DATA_FILE = 0x44415441, EXT_BITMAPS = 0x23852875;
    static final long AUTOCLEAR_BITMAPS = 1;

    /** Byte offsets of the header fields written after open. */
    static final long SIZE_AT = 24, L1_SIZE_AT = 36, REFTABLE_AT = 48, AUTOCLEAR_AT = 88;

    private final FileNode file;
    final int version;
    final int clusterBits;
    final int clusterSize;
    /** log2 of the entries of an L2 table, and of the refcount entries of a refcount block. */
    final int l2Bits;
    final int rbBits;
    final int refcountOrder;
    final int compressionType;
    final long incompatible;
    final long compatible;
    final String backingFile;
    final String backingFormat;
    // ---- as read at open (see the class comment for who owns them afterwards)
    final long size;
    final int l1Size;
    final long l1Offset;
    final long refTableOffset;
    final int refTableClusters;
    /** The bitmaps extension (0, 0, 0 when absent, or ignored because autoclear bit 0 is clear). */
    int nbBitmaps;
    long bitmapDirSize;
    long bitmapDirOffset;
    /** Autoclear features as on disk (v3; 0 for v2). */
    long autoclear;

    private Qcow2Header(FileNode file, MemorySegment header) throws EngineException {
        this.file = file;
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
    }

    /**
     * Reads and checks the header of the image in {@code f} (QEMU's order and texts), then the options that depend on
     * it ({@link #checkOptions}).
     */
    static Qcow2Header read(FileNode f, BlockOptions o, Predicate<String> nodeExists) throws EngineException {
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
        return new Qcow2Header(f, h);
    }

    /** QEMU's qcow2_update_options checks, in its order, once the header is known. */
    private static void checkOptions(BlockOptions o, int version, int clusterSize, Predicate<String> nodeExists)
            throws EngineException {
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

    /** QEMU's checks of the image size, the L1 table and the refcount table (before either is read). */
    void checkTables() throws EngineException {
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
    }

    // =============================================================================================================
    // writes after open (control thread, under the node's lock)

    /**
     * A read-write open clears the autoclear bits it does not know (QEMU's QCOW2_AUTOCLEAR_MASK): nothing here
     * maintains what they vouch for. Bit 0 (bitmaps) is maintained ({@link Qcow2Bitmaps}).
     */
    void clearUnknownAutoclear() throws EngineException {
        long keep = autoclear & AUTOCLEAR_BITMAPS;
        if (keep != autoclear) {
            int r = writeAutoclear(keep);
            if (r < 0) {
                throw new EngineException("Could not update qcow2 header: " + Errno.message(r));
            }
        }
    }

    /** Writes the autoclear features (not flushed). */
    int writeAutoclear(long v) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment z = a.allocate(8, 8);
            z.set(BE64, 0, v);
            int r = file.writeSync(AUTOCLEAR_AT, z);
            if (r >= 0) {
                autoclear = v;
            }
            return r;
        }
    }

    /** Writes header bytes at {@code at} and flushes: the switch to structures already written and flushed. */
    int writeFieldsSync(long at, MemorySegment fields) {
        int r = file.writeSync(at, fields);
        return r < 0 ? r : file.flushSync();
    }

    /** Writes the image size field (not flushed). */
    int writeSize(long newSize) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(8, 8);
            s.set(BE64, 0, newSize);
            return file.writeSync(SIZE_AT, s);
        }
    }

    /**
     * Rewrites the header cluster with the bitmaps extension set to these values (dropped when {@code nb} is 0) and
     * the autoclear features: the other extensions are kept in their order, the backing file name follows the end
     * marker, as QEMU's qcow2_update_header lays them out. One write of the header cluster (not flushed).
     */
    int rewriteBitmapsExtension(int nb, long dirSize, long dirOffset, long newAutoclear) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment old = a.allocate(clusterSize, 4096);
            int r = file.readSync(0, old);
            if (r < 0) {
                return r;
            }
            int headerLength = old.get(BE32, 100);
            MemorySegment h = a.allocate(clusterSize, 4096);
            MemorySegment.copy(old, 0, h, 0, headerLength);
            h.set(BE64, AUTOCLEAR_AT, newAutoclear);
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

    // =============================================================================================================
    // tables of big-endian 64-bit entries

    /** Reads a table of {@code entries} entries at {@code offset}. */
    static long[] readTable(FileNode file, long offset, int entries) throws EngineException {
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

    /** Writes a table at {@code offset}, zero-padded to {@code bytes}, and flushes; 0 or -errno. */
    static int writeTableSync(FileNode file, long[] entries, long offset, long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment t = a.allocate(bytes, 4096);
            for (int i = 0; i < entries.length; i++) {
                t.set(BE64, i * 8L, entries[i]);
            }
            int r = file.writeSync(offset, t);
            return r < 0 ? r : file.flushSync();
        }
    }

    /** Writes entry {@code i} of a table at {@code tableOffset} (not flushed); 0 or -errno. */
    static int writeTableEntry(FileNode file, long tableOffset, int i, long value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = a.allocate(8, 8);
            e.set(BE64, 0, value);
            return file.writeSync(tableOffset + i * 8L, e);
        }
    }

    static long roundUp(long v, long a) {
        return (v + a - 1) & -a;
    }
}
