package io.isthmus.engine.export.vhostuser;

import static io.isthmus.engine.export.vhostuser.VhostUser.LE_INT;
import static io.isthmus.engine.export.vhostuser.VhostUser.LE_LONG;

import io.isthmus.engine.block.BlockRequest;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * One virtio-blk request taken apart and checked as QEMU's {@code virtio_blk_process_req} does, from a walked
 * {@link DescriptorChain}: the 16-byte header at the start of the device-readable area, the status byte at the
 * end of the device-writable area, the data in between. The result is either a block-layer operation to run
 * ({@link #SUBMIT}: {@link #op}, {@link #flags}, {@link #offset}, {@link #length}, and the data iovecs through
 * {@link #dataToIovecs}), or a request already answered ({@link #COMPLETE}: {@link #status} set, GET_ID's serial
 * already written).
 *
 * <p>Checks (QEMU's): IN/OUT size a multiple of 512 and at most BDRV_REQUEST_MAX_SECTORS, offset aligned to the
 * logical block size, inside the capacity, else IOERR; writes to a read-only export IOERR; DISCARD/WRITE_ZEROES
 * with more than one segment UNSUPP, a short segment IOERR, more than 32768 sectors or out of range IOERR,
 * unknown flags (or UNMAP on a discard) UNSUPP; unknown types UNSUPP. Where QEMU drops a malformed request (no
 * header, no status byte) it is answered here: IOERR in the last writable byte if there is one, else an empty
 * used entry ({@link #hasStatus} false), so the guest never waits forever.
 *
 * <p>Preallocated per request slot and reused: no allocation per request. Thread use: the queue's IoThread.
 */
public final class VirtioBlkRequest {
    public static final int SUBMIT = 0, COMPLETE = 1;
    private static final byte[] SERIAL = (VirtioBlk.SERIAL + "\0").getBytes(StandardCharsets.US_ASCII);
    private static final MemorySegment SERIAL_SEGMENT = MemorySegment.ofArray(SERIAL);

    /** Header fields as read (type with the BARRIER bit masked off). */
    public int type;
    public long sector;
    /** For SUBMIT: the block operation (BlockRequest.READ, WRITE, FLUSH, DISCARD, WRITE_ZEROES) and its flags. */
    public int op;
    public int flags;
    public long offset;
    public long length;
    /** For COMPLETE, or once the operation finished: the status byte to write. */
    public byte status;
    /** False when the chain has no device-writable byte to put a status in (a malformed request). */
    public boolean hasStatus;
    /** The used length to report: the whole device-writable area, as QEMU does. */
    public int usedLength;

    private DescriptorChain chain;
    private final MemorySegment scratch = MemorySegment.ofArray(new byte[16]);

    /**
     * Takes the request in {@code chain} apart. {@code capacitySectors} and {@code logicalBlockSize} are the
     * export's; returns {@link #SUBMIT} or {@link #COMPLETE}.
     */
    public int parse(DescriptorChain chain, long capacitySectors, int logicalBlockSize, boolean writable) {
        this.chain = chain;
        op = -1;
        flags = 0;
        offset = 0;
        length = 0;
        hasStatus = chain.writableBytes > 0;
        usedLength = (int) Math.min(chain.writableBytes, Integer.MAX_VALUE);
        if (!hasStatus || chain.readable == 0 || chain.read(0, scratch, 0, VirtioBlk.OUTHDR_SIZE)
                != VirtioBlk.OUTHDR_SIZE) {
            type = -1;
            return complete(VirtioBlk.S_IOERR); // QEMU: "request missing headers" / "outhdr too short"
        }
        type = scratch.get(LE_INT, 0) & ~VirtioBlk.T_BARRIER;
        sector = scratch.get(LE_LONG, 8);
        switch (type) {
            case VirtioBlk.T_IN, VirtioBlk.T_OUT -> {
                boolean write = type == VirtioBlk.T_OUT;
                if (write && !writable) {
                    return complete(VirtioBlk.S_IOERR);
                }
                long size = write ? chain.readableBytes - VirtioBlk.OUTHDR_SIZE : chain.writableBytes - 1;
                if (!rangeOk(sector, size, capacitySectors, logicalBlockSize)) {
                    return complete(VirtioBlk.S_IOERR);
                }
                op = write ? BlockRequest.WRITE : BlockRequest.READ;
                offset = sector << VirtioBlk.SECTOR_BITS;
                length = size;
                return size == 0 ? complete(VirtioBlk.S_OK) : SUBMIT;
            }
            case VirtioBlk.T_FLUSH -> {
                op = BlockRequest.FLUSH;
                return SUBMIT;
            }
            case VirtioBlk.T_GET_ID -> {
                int n = (int) Math.min(SERIAL.length, Math.min(chain.writableBytes - 1, VirtioBlk.ID_BYTES));
                chain.write(0, SERIAL_SEGMENT, 0, n);
                return complete(VirtioBlk.S_OK);
            }
            case VirtioBlk.T_DISCARD, VirtioBlk.T_WRITE_ZEROES -> {
                if (!writable) {
                    return complete(VirtioBlk.S_IOERR);
                }
                return discardOrWriteZeroes(capacitySectors, logicalBlockSize);
            }
            default -> {
                return complete(VirtioBlk.S_UNSUPP);
            }
        }
    }

    private int discardOrWriteZeroes(long capacitySectors, int logicalBlockSize) {
        long payload = chain.readableBytes - VirtioBlk.OUTHDR_SIZE;
        if (payload > VirtioBlk.DISCARD_SEGMENT_SIZE) {
            return complete(VirtioBlk.S_UNSUPP); // only one segment (max_discard_seg = 1)
        }
        if (chain.read(VirtioBlk.OUTHDR_SIZE, scratch, 0, VirtioBlk.DISCARD_SEGMENT_SIZE)
                != VirtioBlk.DISCARD_SEGMENT_SIZE) {
            return complete(VirtioBlk.S_IOERR);
        }
        long segSector = scratch.get(LE_LONG, 0);
        long numSectors = scratch.get(LE_INT, 8) & 0xFFFFFFFFL;
        int segFlags = scratch.get(LE_INT, 12);
        boolean zeroes = type == VirtioBlk.T_WRITE_ZEROES;
        long max = zeroes ? VirtioBlk.MAX_WRITE_ZEROES_SECTORS : VirtioBlk.MAX_DISCARD_SECTORS;
        if (numSectors > max) {
            return complete(VirtioBlk.S_IOERR);
        }
        long bytes = numSectors << VirtioBlk.SECTOR_BITS;
        if (!rangeOk(segSector, bytes, capacitySectors, logicalBlockSize)) {
            return complete(VirtioBlk.S_IOERR);
        }
        if ((segFlags & ~VirtioBlk.WRITE_ZEROES_FLAG_UNMAP) != 0) {
            return complete(VirtioBlk.S_UNSUPP);
        }
        if (!zeroes && (segFlags & VirtioBlk.WRITE_ZEROES_FLAG_UNMAP) != 0) {
            return complete(VirtioBlk.S_UNSUPP);
        }
        op = zeroes ? BlockRequest.WRITE_ZEROES : BlockRequest.DISCARD;
        flags = zeroes && (segFlags & VirtioBlk.WRITE_ZEROES_FLAG_UNMAP) != 0 ? BlockRequest.MAY_UNMAP : 0;
        sector = segSector;
        offset = segSector << VirtioBlk.SECTOR_BITS;
        length = bytes;
        return bytes == 0 ? complete(VirtioBlk.S_OK) : SUBMIT;
    }

    /** QEMU's virtio_blk_sect_range_ok, with unsigned sectors and no overflow. */
    static boolean rangeOk(long sector, long size, long capacitySectors, int logicalBlockSize) {
        if (size < 0 || size % VirtioBlk.SECTOR_SIZE != 0) {
            return false;
        }
        long sectors = size >>> VirtioBlk.SECTOR_BITS;
        if (sectors > VirtioBlk.REQUEST_MAX_SECTORS) {
            return false;
        }
        if (Long.compareUnsigned(sector, capacitySectors) > 0 || sectors > capacitySectors - sector) {
            return false;
        }
        return (sector << VirtioBlk.SECTOR_BITS) % logicalBlockSize == 0; // sector <= capacity < 2^55
    }

    private int complete(byte s) {
        status = s;
        return COMPLETE;
    }

    /**
     * Describes the data of a READ (the device-writable area before the status byte) or WRITE (the readable area
     * after the header) as native iovecs in {@code iov} ({@link BlockRequest#iovecs}); returns the count, or -1 if
     * more than {@code maxEntries} are needed.
     */
    public int dataToIovecs(MemorySegment iov, int maxEntries) {
        boolean read = op == BlockRequest.READ;
        return chain.toIovecs(iov, maxEntries, read, read ? 0 : VirtioBlk.OUTHDR_SIZE, length);
    }

    /**
     * Writes {@link #status} (set it first from the operation's result) into the last device-writable byte;
     * returns the used length to push (0 when there is no status byte).
     */
    public int finish() {
        if (!hasStatus) {
            return 0;
        }
        chain.writeByte(chain.writableBytes - 1, status);
        return usedLength;
    }

    /** Maps a block-layer result ({@code >= 0} or {@code -errno}) to a status, as QEMU: any error is IOERR. */
    public static byte statusOf(int result) {
        return result >= 0 ? VirtioBlk.S_OK : VirtioBlk.S_IOERR;
    }
}
