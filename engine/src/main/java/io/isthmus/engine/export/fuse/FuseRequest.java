package io.isthmus.engine.export.fuse;

import static io.isthmus.engine.export.fuse.FuseProtocol.*;

import java.lang.foreign.MemorySegment;

/**
 * One decoded request from {@code /dev/fuse}: the {@code fuse_in_header} and the arguments of the opcodes the
 * export serves, read little-endian from the bytes one {@code read(2)} returned. Mutable and reused by its slot:
 * decoding allocates nothing.
 *
 * <p>Checks: the bytes read must hold a whole header whose {@code len} equals the count read, or the framing of
 * the device cannot be trusted and {@link #decode} answers {@link #HALT} (the export stops reading, as QEMU
 * does). A well-framed request whose body does not match its opcode's struct (too short, too long, a write whose
 * payload disagrees with its {@code size}, an I/O larger than negotiated) gets {@code -EINVAL}; opcodes the export
 * does not serve are not checked and get {@code -ENOSYS} from the dispatcher.
 *
 * <p>Thread use: the slot's IoThread. Memory: none of its own; {@link #dataOffset} points into the caller's buffer.
 */
public final class FuseRequest {
    /** {@link #decode}: the read makes no sense (short, or a header whose length disagrees): stop the export. */
    public static final int HALT = Integer.MIN_VALUE;
    private static final int EINVAL = 22;

    // ---- fuse_in_header
    public int len;
    public int opcode;
    public long unique;
    public long nodeid;
    public int uid, gid, pid;

    // ---- arguments (only those of the current opcode are meaningful)
    /** fh of READ/WRITE/RELEASE/FLUSH/FSYNC/FALLOCATE/LSEEK/SETATTR/GETATTR. */
    public long fh;
    /** READ/WRITE/FALLOCATE/LSEEK offset. */
    public long offset;
    /** READ/WRITE size. */
    public int size;
    /** FALLOCATE length. */
    public long length;
    /** OPEN flags, READ read_flags, WRITE write_flags, FSYNC fsync_flags, FALLOCATE mode, LSEEK whence,
     *  GETATTR getattr_flags, RELEASE flags. */
    public int flags;
    /** WRITE: where the payload starts in the decoded buffer. */
    public long dataOffset;
    /** LOOKUP: the name's length (without its NUL). */
    public int nameLength;
    /** FORGET nlookup / INTERRUPT unique of the interrupted request. */
    public long arg;
    /** BATCH_FORGET count. */
    public int count;

    // ---- SETATTR
    public int valid;
    public long attrSize, atime, mtime, ctime;
    public int atimensec, mtimensec, ctimensec, mode, attrUid, attrGid;

    // ---- INIT
    public int major, minor, maxReadahead;
    /** INIT flags, with flags2 in the high half when the kernel set FUSE_INIT_EXT. */
    public long initFlags;

    /**
     * Decodes the {@code n} bytes at {@code at} in {@code buf}. {@code maxIo} caps READ and WRITE sizes (the
     * negotiated max_write / the buffer's payload room). Returns 0 when the request is well-formed, {@code -EINVAL}
     * when its body does not fit its opcode (the header fields are valid then: reply with the error), or
     * {@link #HALT}.
     */
    public int decode(MemorySegment buf, long at, long n, int maxIo) {
        if (n < IN_HEADER_SIZE || at < 0 || at + n > buf.byteSize()) {
            return HALT;
        }
        len = buf.get(U32, at + IH_LEN);
        opcode = buf.get(U32, at + IH_OPCODE);
        unique = buf.get(U64, at + IH_UNIQUE);
        nodeid = buf.get(U64, at + IH_NODEID);
        uid = buf.get(U32, at + IH_UID);
        gid = buf.get(U32, at + IH_GID);
        pid = buf.get(U32, at + IH_PID);
        int extlen = (buf.get(U16, at + IH_TOTAL_EXTLEN) & 0xFFFF) * 8;
        if (Integer.toUnsignedLong(len) != n) {
            return HALT;
        }
        long body = n - IN_HEADER_SIZE - extlen; // extensions (security context, groups) trail the arguments
        if (body < 0) {
            return -EINVAL;
        }
        long a = at + IN_HEADER_SIZE;
        switch (opcode) {
            case INIT -> {
                if (body < INIT_IN_COMPAT_SIZE) {
                    return -EINVAL;
                }
                major = buf.get(U32, a);
                minor = buf.get(U32, a + 4);
                maxReadahead = buf.get(U32, a + 8);
                initFlags = Integer.toUnsignedLong(buf.get(U32, a + 12));
                if (body >= INIT_IN_COMPAT_SIZE + 4 && (initFlags & INIT_EXT) != 0) {
                    initFlags |= Integer.toUnsignedLong(buf.get(U32, a + 16)) << 32;
                }
            }
            case LOOKUP -> {
                // a NUL-terminated name that fills the body exactly
                if (body < 2 || body > 4096 || buf.get(java.lang.foreign.ValueLayout.JAVA_BYTE, a + body - 1) != 0) {
                    return -EINVAL;
                }
                nameLength = (int) body - 1;
            }
            case FORGET, INTERRUPT -> {
                if (body != FORGET_IN_SIZE) {
                    return -EINVAL;
                }
                arg = buf.get(U64, a);
            }
            case BATCH_FORGET -> {
                if (body < BATCH_FORGET_IN_SIZE) {
                    return -EINVAL;
                }
                count = buf.get(U32, a);
                if (Integer.toUnsignedLong(count) * FORGET_ONE_SIZE != body - BATCH_FORGET_IN_SIZE) {
                    return -EINVAL;
                }
            }
            case GETATTR -> {
                if (body != GETATTR_IN_SIZE) {
                    return -EINVAL;
                }
                flags = buf.get(U32, a);
                fh = buf.get(U64, a + 8);
            }
            case SETATTR -> {
                if (body != SETATTR_IN_SIZE) {
                    return -EINVAL;
                }
                valid = buf.get(U32, a);
                fh = buf.get(U64, a + 8);
                attrSize = buf.get(U64, a + 16);
                atime = buf.get(U64, a + 32);
                mtime = buf.get(U64, a + 40);
                ctime = buf.get(U64, a + 48);
                atimensec = buf.get(U32, a + 56);
                mtimensec = buf.get(U32, a + 60);
                ctimensec = buf.get(U32, a + 64);
                mode = buf.get(U32, a + 68);
                attrUid = buf.get(U32, a + 76);
                attrGid = buf.get(U32, a + 80);
            }
            case OPEN -> {
                if (body != OPEN_IN_SIZE) {
                    return -EINVAL;
                }
                flags = buf.get(U32, a);
            }
            case READ -> {
                if (body != READ_IN_SIZE) {
                    return -EINVAL;
                }
                fh = buf.get(U64, a);
                offset = buf.get(U64, a + 8);
                size = buf.get(U32, a + 16);
                flags = buf.get(U32, a + 20);
                if (size < 0 || size > maxIo || offset < 0) {
                    return -EINVAL;
                }
            }
            case WRITE -> {
                if (body < WRITE_IN_SIZE) {
                    return -EINVAL;
                }
                fh = buf.get(U64, a);
                offset = buf.get(U64, a + 8);
                size = buf.get(U32, a + 16);
                flags = buf.get(U32, a + 20);
                dataOffset = a + WRITE_IN_SIZE;
                if (size < 0 || size > maxIo || offset < 0 || body != WRITE_IN_SIZE + (long) size) {
                    return -EINVAL;
                }
            }
            case RELEASE -> {
                if (body != RELEASE_IN_SIZE) {
                    return -EINVAL;
                }
                fh = buf.get(U64, a);
                flags = buf.get(U32, a + 8);
            }
            case FLUSH -> {
                if (body != FLUSH_IN_SIZE) {
                    return -EINVAL;
                }
                fh = buf.get(U64, a);
            }
            case FSYNC -> {
                if (body != FSYNC_IN_SIZE) {
                    return -EINVAL;
                }
                fh = buf.get(U64, a);
                flags = buf.get(U32, a + 8);
            }
            case FALLOCATE -> {
                if (body != FALLOCATE_IN_SIZE) {
                    return -EINVAL;
                }
                fh = buf.get(U64, a);
                offset = buf.get(U64, a + 8);
                length = buf.get(U64, a + 16);
                flags = buf.get(U32, a + 24);
                if (offset < 0 || length <= 0 || offset + length < 0) {
                    return -EINVAL;
                }
            }
            case LSEEK -> {
                if (body != LSEEK_IN_SIZE) {
                    return -EINVAL;
                }
                fh = buf.get(U64, a);
                offset = buf.get(U64, a + 8);
                flags = buf.get(U32, a + 16);
            }
            case STATFS, DESTROY -> {
                if (body != 0) {
                    return -EINVAL;
                }
            }
            default -> { } // not served: ENOSYS whatever the body
        }
        return 0;
    }

    /** Requests the kernel expects no reply to. */
    public boolean noReply() {
        return opcode == FORGET || opcode == BATCH_FORGET;
    }
}
