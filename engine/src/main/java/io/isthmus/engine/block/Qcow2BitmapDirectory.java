package io.isthmus.engine.block;

import io.isthmus.engine.EngineException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The bitmap directory of a qcow2 image (docs/interop/qcow2.txt, "Bitmaps extension"): decoding with QEMU's checks
 * and texts, and encoding. Pure logic: the caller reads and writes the bytes.
 *
 * <p>An entry: table offset (8), table size in entries (4), flags (4: bit 0 in_use, bit 1 auto), type (1: 1 = dirty
 * tracking), granularity bits (1), name size (2), extra data size (4), extra data, name, zero padding to 8 bytes.
 * All big-endian. Thread use: any (instances are not shared).
 */
final class Qcow2BitmapDirectory {
    private static final ValueLayout.OfLong BE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    static final int FLAG_IN_USE = 1, FLAG_AUTO = 2;
    static final int MAX_BITMAPS = 65535;
    static final long MAX_DIRECTORY_SIZE = 1024L * MAX_BITMAPS;
    static final long MAX_TABLE_SIZE = 0x8000000L;
    static final long MAX_PHYS_SIZE = 0x20000000L;
    static final int MIN_GRANULARITY_BITS = 9, MAX_GRANULARITY_BITS = 31;
    static final int MAX_NAME_SIZE = 1023;
    /** Reserved bits of a bitmap table entry: 1..8 and 56..63. */
    static final long TABLE_RESERVED = 0xff000000000001feL;
    static final long TABLE_OFFSET_MASK = 0x00fffffffffffe00L;
    static final long TABLE_ALL_ONES = 1;

    /** One directory entry (mutable: the node updates flags and tables as it stores). */
    static final class Entry {
        final String name;
        final byte[] nameBytes;
        int flags;
        int granularityBits;
        long tableOffset;
        int tableSize;

        Entry(String name, int flags, int granularityBits, long tableOffset, int tableSize) {
            this.name = name;
            this.nameBytes = name.getBytes(StandardCharsets.UTF_8);
            this.flags = flags;
            this.granularityBits = granularityBits;
            this.tableOffset = tableOffset;
            this.tableSize = tableSize;
        }

        Entry copy() {
            return new Entry(name, flags, granularityBits, tableOffset, tableSize);
        }

        boolean inUse() {
            return (flags & FLAG_IN_USE) != 0;
        }
    }

    private Qcow2BitmapDirectory() {
    }

    /** The size of an entry with this name (QEMU's calc_dir_entry_size, no extra data). */
    static long entrySize(int nameBytes) {
        return (24L + nameBytes + 7) & ~7L;
    }

    static long entrySize(String name) {
        return entrySize(name.getBytes(StandardCharsets.UTF_8).length);
    }

    /** Bytes of bitmap data for an image of {@code length} bytes (QEMU's get_bitmap_bytes_needed). */
    static long bytesNeeded(long length, int granularityBits) {
        long bits = length == 0 ? 0 : ((length - 1) >>> granularityBits) + 1;
        return (bits + 7) >>> 3;
    }

    /**
     * Decodes a directory of {@code count} entries (QEMU's bitmap_list_load and check_dir_entry), for an image of
     * {@code length} bytes and clusters of {@code clusterSize}.
     */
    static List<Entry> decode(MemorySegment dir, int count, int clusterSize, long length) throws EngineException {
        long size = dir.byteSize();
        if (size == 0) {
            throw new EngineException("Requested bitmap directory size is zero");
        }
        if (size > MAX_DIRECTORY_SIZE) {
            throw new EngineException("Requested bitmap directory size is too big");
        }
        List<Entry> l = new ArrayList<>();
        long pos = 0;
        int n = 0;
        while (pos < size) {
            if (pos + 24 > size) {
                throw new EngineException("Broken bitmap directory");
            }
            if (++n > count) {
                throw new EngineException("More bitmaps found than specified in header extension");
            }
            long tableOffset = dir.get(BE64, pos);
            long tableSize = dir.get(BE32, pos + 8) & 0xffffffffL;
            int flags = dir.get(BE32, pos + 12);
            int type = dir.get(ValueLayout.JAVA_BYTE, pos + 16) & 0xff;
            int gb = dir.get(ValueLayout.JAVA_BYTE, pos + 17) & 0xff;
            int nameSize = dir.get(BE16, pos + 18) & 0xffff;
            long extra = dir.get(BE32, pos + 20) & 0xffffffffL;
            long next = pos + ((24 + nameSize + extra + 7) & ~7L);
            if (next > size) {
                throw new EngineException("Broken bitmap directory");
            }
            if (extra != 0) {
                throw new EngineException("Bitmap extra data is not supported");
            }
            String name = new String(dir.asSlice(pos + 24, nameSize).toArray(ValueLayout.JAVA_BYTE),
                    StandardCharsets.UTF_8);
            if (!valid(tableOffset, tableSize, flags, type, gb, nameSize, clusterSize, length)) {
                throw new EngineException("Bitmap '" + name + "' doesn't satisfy the constraints");
            }
            l.add(new Entry(name, flags, gb, tableOffset, (int) tableSize));
            pos = next;
        }
        if (n != count) {
            throw new EngineException("Less bitmaps found than specified in header extension");
        }
        return l;
    }

    /** QEMU's check_dir_entry. */
    static boolean valid(long tableOffset, long tableSize, int flags, int type, int gb, int nameSize,
                         int clusterSize, long length) {
        if (tableSize == 0 || tableOffset == 0 || (tableOffset & (clusterSize - 1)) != 0
                || tableSize > MAX_TABLE_SIZE || gb > MAX_GRANULARITY_BITS || gb < MIN_GRANULARITY_BITS
                || (flags & ~(FLAG_IN_USE | FLAG_AUTO)) != 0 || nameSize > MAX_NAME_SIZE || type != 1) {
            return false;
        }
        long phys = tableSize * clusterSize;
        if (phys > MAX_PHYS_SIZE) {
            return false;
        }
        // a consistent bitmap must cover the image (an in_use one may be stale after a resize)
        return (flags & FLAG_IN_USE) != 0 || length <= (phys * 8) << gb;
    }

    /** The encoded size of {@code entries}. */
    static long size(List<Entry> entries) {
        long s = 0;
        for (Entry e : entries) {
            s += entrySize(e.nameBytes.length);
        }
        return s;
    }

    /** Encodes {@code entries} into {@code dst} (at least {@link #size} bytes, zeroed by the caller). */
    static void encode(List<Entry> entries, MemorySegment dst) {
        long pos = 0;
        for (Entry e : entries) {
            dst.set(BE64, pos, e.tableOffset);
            dst.set(BE32, pos + 8, e.tableSize);
            dst.set(BE32, pos + 12, e.flags);
            dst.set(ValueLayout.JAVA_BYTE, pos + 16, (byte) 1);
            dst.set(ValueLayout.JAVA_BYTE, pos + 17, (byte) e.granularityBits);
            dst.set(BE16, pos + 18, (short) e.nameBytes.length);
            dst.set(BE32, pos + 20, 0);
            MemorySegment.copy(MemorySegment.ofArray(e.nameBytes), 0, dst, pos + 24, e.nameBytes.length);
            pos += entrySize(e.nameBytes.length);
        }
    }
}
