package io.isthmus.engine.export.nbd;

import io.isthmus.bindings.Errno;
import java.lang.foreign.MemorySegment;

/**
 * One transmission-phase request header, decoded in place and reused (no allocation), plus the checks QEMU
 * applies before running it ({@code nbd_co_receive_request}). Pure logic: unit-tested and fuzzed directly.
 */
public final class NbdRequest {
    public int flags;
    public int type;
    public long cookie;
    public long offset;
    /** Effect length, or the payload length when PAYLOAD_LEN is set (extended headers). */
    public long length;

    /** Result of {@link #decode}: more bytes are needed. */
    public static final int INCOMPLETE = 0;
    /** Result of {@link #decode}: wrong magic, the stream is out of sync: disconnect. */
    public static final int BAD_MAGIC = -1;

    /**
     * Decodes a header at {@code at} from {@code available} bytes. Returns the header size consumed,
     * {@link #INCOMPLETE} or {@link #BAD_MAGIC}.
     */
    public int decode(MemorySegment s, long at, long available, boolean extended) {
        int size = extended ? Nbd.EXTENDED_REQUEST_SIZE : Nbd.REQUEST_SIZE;
        if (available < size) {
            return INCOMPLETE;
        }
        long head = s.get(Nbd.BE_LONG, at); // magic, flags, type: one load (fewer var-handle chains to compile)
        if ((int) (head >>> 32) != (extended ? Nbd.EXTENDED_REQUEST_MAGIC : Nbd.REQUEST_MAGIC)) {
            return BAD_MAGIC;
        }
        flags = (int) (head >>> 16) & 0xFFFF;
        type = (int) head & 0xFFFF;
        cookie = s.get(Nbd.BE_LONG, at + 8);
        offset = s.get(Nbd.BE_LONG, at + 16);
        length = extended ? s.get(Nbd.BE_LONG, at + 24) : (s.get(Nbd.BE_INT, at + 24) & 0xFFFFFFFFL);
        return size;
    }

    /**
     * The payload bytes following this header on the wire: a WRITE's data, or (extended headers) any
     * command's payload announced with PAYLOAD_LEN. Unsigned; may exceed what is allowed (checked by the
     * caller against {@link Nbd#MAX_BUFFER_SIZE}).
     */
    public long payloadLength(boolean extended) {
        if (type == Nbd.CMD_WRITE) {
            return length;
        }
        if (extended && (flags & Nbd.CMD_FLAG_PAYLOAD_LEN) != 0) {
            return length;
        }
        return 0;
    }

    /** The message of the last failed {@link #check} (QEMU's text). */
    public String error;

    /**
     * QEMU's sanity checks after the payload was read, in its order. Returns 0, or a negative system errno
     * (-EINVAL, -EROFS, -ENOSPC) with {@link #error} set.
     *
     * @param effectLength the length the command acts on (for BLOCK_STATUS with a payload: from the payload)
     */
    public int check(long effectLength, long exportSize, int exportFlags, boolean structured, boolean extended) {
        if ((type == Nbd.CMD_READ || type == Nbd.CMD_CACHE) && effectLength > Nbd.MAX_BUFFER_SIZE) {
            error = "len (" + Long.toUnsignedString(effectLength) + " ) is larger than max len ("
                    + Nbd.MAX_BUFFER_SIZE + ")";
            return -Errno.EINVAL;
        }
        if ((exportFlags & Nbd.FLAG_READ_ONLY) != 0
                && (type == Nbd.CMD_WRITE || type == Nbd.CMD_WRITE_ZEROES || type == Nbd.CMD_TRIM)) {
            error = "Export is read-only";
            return -Errno.EROFS;
        }
        if (Long.compareUnsigned(offset, exportSize) > 0
                || Long.compareUnsigned(effectLength, exportSize - offset) > 0) {
            error = "operation past EOF; From: " + Long.toUnsignedString(offset) + ", Len: "
                    + Long.toUnsignedString(effectLength) + ", Size: " + exportSize;
            return (type == Nbd.CMD_WRITE || type == Nbd.CMD_WRITE_ZEROES) ? -Errno.ENOSPC : -Errno.EINVAL;
        }
        int valid = Nbd.CMD_FLAG_FUA;
        if (type == Nbd.CMD_READ && structured) {
            valid |= Nbd.CMD_FLAG_DF;
        } else if (type == Nbd.CMD_WRITE_ZEROES) {
            valid |= Nbd.CMD_FLAG_NO_HOLE | Nbd.CMD_FLAG_FAST_ZERO;
        } else if (type == Nbd.CMD_BLOCK_STATUS) {
            valid |= Nbd.CMD_FLAG_REQ_ONE;
            if (extended) {
                valid |= Nbd.CMD_FLAG_PAYLOAD_LEN;
            }
        }
        if (type == Nbd.CMD_WRITE && extended) {
            valid |= Nbd.CMD_FLAG_PAYLOAD_LEN;
        }
        if ((flags & ~valid) != 0) {
            error = "unsupported flags for command " + Nbd.cmdName(type) + " (got 0x" + Integer.toHexString(flags)
                    + ")";
            return -Errno.EINVAL;
        }
        if (type > Nbd.CMD_BLOCK_STATUS) {
            error = "invalid request type (" + type + ") received";
            return -Errno.EINVAL;
        }
        return 0;
    }
}
