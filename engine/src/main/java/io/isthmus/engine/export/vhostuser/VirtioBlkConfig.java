package io.isthmus.engine.export.vhostuser;

import static io.isthmus.engine.export.vhostuser.VhostUser.LE_INT;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_LONG;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_SHORT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The virtio-blk config space ({@code struct virtio_blk_config}, little-endian, 96 bytes with the secure-erase and
 * zoned fields, left zero), filled as QEMU's {@code vu_blk_initialize_config} fills it: capacity, size_max 0,
 * seg_max 126, no geometry, blk_size, topology (min/opt I/O size 1), num_queues, discard and write-zeroes limits
 * (32768 sectors, one segment, discard alignment of one logical block), wce 0 until the front end sets it.
 *
 * <p>Thread use: the session's thread (GET/SET_CONFIG); a resize updates the capacity there and then sends the
 * config-change message. Memory: a heap array.
 */
public final class VirtioBlkConfig {
    public static final int SIZE = 96;
    public static final int CAPACITY = 0, SIZE_MAX = 8, SEG_MAX = 12, GEOMETRY = 16, BLK_SIZE = 20,
            PHYSICAL_BLOCK_EXP = 24, ALIGNMENT_OFFSET = 25, MIN_IO_SIZE = 26, OPT_IO_SIZE = 28, WCE = 32,
            NUM_QUEUES = 34, MAX_DISCARD_SECTORS = 36, MAX_DISCARD_SEG = 40, DISCARD_SECTOR_ALIGNMENT = 44,
            MAX_WRITE_ZEROES_SECTORS = 48, MAX_WRITE_ZEROES_SEG = 52, WRITE_ZEROES_MAY_UNMAP = 56;

    private final MemorySegment bytes = MemorySegment.ofArray(new byte[SIZE]);

    public VirtioBlkConfig(long lengthBytes, int logicalBlockSize, int numQueues) {
        setCapacity(lengthBytes);
        bytes.set(LE_INT, SIZE_MAX, 0);
        bytes.set(LE_INT, SEG_MAX, VirtioBlk.SEG_MAX);
        bytes.set(LE_INT, BLK_SIZE, logicalBlockSize);
        bytes.set(LE_SHORT, MIN_IO_SIZE, (short) 1);
        bytes.set(LE_INT, OPT_IO_SIZE, 1);
        bytes.set(LE_SHORT, NUM_QUEUES, (short) numQueues);
        bytes.set(LE_INT, MAX_DISCARD_SECTORS, VirtioBlk.MAX_DISCARD_SECTORS);
        bytes.set(LE_INT, MAX_DISCARD_SEG, 1);
        bytes.set(LE_INT, DISCARD_SECTOR_ALIGNMENT, logicalBlockSize >> VirtioBlk.SECTOR_BITS);
        bytes.set(LE_INT, MAX_WRITE_ZEROES_SECTORS, VirtioBlk.MAX_WRITE_ZEROES_SECTORS);
        bytes.set(LE_INT, MAX_WRITE_ZEROES_SEG, 1);
    }

    /** The node's length changed: capacity in 512-byte sectors (rounded down). */
    public void setCapacity(long lengthBytes) {
        bytes.set(LE_LONG, CAPACITY, lengthBytes >>> VirtioBlk.SECTOR_BITS);
    }

    public long capacitySectors() {
        return bytes.get(LE_LONG, CAPACITY);
    }

    public int wce() {
        return bytes.get(ValueLayout.JAVA_BYTE, WCE) & 0xFF;
    }

    public void setWce(int wce) {
        bytes.set(ValueLayout.JAVA_BYTE, WCE, (byte) wce);
    }

    /** GET_CONFIG: copies [offset, offset + size) into {@code dst}; 0, or -22 (EINVAL) outside the space. */
    public int read(int offset, MemorySegment dst, int size) {
        if (offset < 0 || size < 0 || offset > SIZE || size > SIZE - offset) {
            return -22;
        }
        MemorySegment.copy(bytes, offset, dst, 0, size);
        return 0;
    }

    /**
     * SET_CONFIG, as QEMU's {@code vu_blk_set_config}: only the one-byte wce from the front end (not a migration
     * write); the new value is returned for the export to apply (write cache on or off), or -22 (EINVAL).
     */
    public int write(int offset, MemorySegment src, int size, int flags) {
        if (flags != VhostUser.CONFIG_TYPE_FRONTEND || offset != WCE || size != 1) {
            return -22;
        }
        int wce = src.get(ValueLayout.JAVA_BYTE, 0) & 0xFF;
        setWce(wce);
        return wce;
    }

    /** A copy of the bytes (tests). */
    public byte[] toArray() {
        return bytes.toArray(ValueLayout.JAVA_BYTE);
    }
}
