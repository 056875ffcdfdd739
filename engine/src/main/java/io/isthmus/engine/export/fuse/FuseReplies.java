package io.isthmus.engine.export.fuse;

import static io.isthmus.engine.export.fuse.FuseProtocol.*;

import java.lang.foreign.MemorySegment;

/**
 * Encoders of the replies the export writes to {@code /dev/fuse}: {@code fuse_out_header} and the reply structs,
 * little-endian, into a caller's buffer at an offset. Each returns the number of bytes it wrote. Static and
 * allocation-free; any thread (the buffer belongs to the caller).
 */
public final class FuseReplies {
    private FuseReplies() {}

    /** fuse_out_header: {@code len} is the whole reply's length, {@code error} 0 or -errno. */
    public static int outHeader(MemorySegment s, long at, int len, int error, long unique) {
        s.set(U32, at + OH_LEN, len);
        s.set(U32, at + OH_ERROR, error);
        s.set(U64, at + OH_UNIQUE, unique);
        return OUT_HEADER_SIZE;
    }

    /** fuse_init_out (64 bytes); flags2 carries {@code flags >>> 32}, meaningful when INIT_EXT is among flags. */
    public static int initOut(MemorySegment s, long at, int major, int minor, int maxReadahead, long flags,
            int maxBackground, int congestionThreshold, int maxWrite, int timeGran, int maxPages) {
        s.asSlice(at, INIT_OUT_SIZE).fill((byte) 0);
        s.set(U32, at, major);
        s.set(U32, at + 4, minor);
        s.set(U32, at + 8, maxReadahead);
        s.set(U32, at + 12, (int) flags);
        s.set(U16, at + 16, (short) maxBackground);
        s.set(U16, at + 18, (short) congestionThreshold);
        s.set(U32, at + 20, maxWrite);
        s.set(U32, at + 24, timeGran);
        s.set(U16, at + 28, (short) maxPages);
        s.set(U32, at + 32, (int) (flags >>> 32));
        return INIT_OUT_SIZE;
    }

    /**
     * fuse_attr_out (104 bytes): attribute validity, then fuse_attr. Times are seconds plus nanoseconds; blocks
     * counts 512-byte units.
     */
    public static int attrOut(MemorySegment s, long at, long validSec, int validNsec, long ino, long size,
            long blocks, long atime, int atimeNs, long mtime, int mtimeNs, long ctime, int ctimeNs, int mode,
            int nlink, int uid, int gid, int blksize) {
        s.set(U64, at, validSec);
        s.set(U32, at + 8, validNsec);
        s.set(U32, at + 12, 0);
        long a = at + 16;
        s.set(U64, a, ino);
        s.set(U64, a + 8, size);
        s.set(U64, a + 16, blocks);
        s.set(U64, a + 24, atime);
        s.set(U64, a + 32, mtime);
        s.set(U64, a + 40, ctime);
        s.set(U32, a + 48, atimeNs);
        s.set(U32, a + 52, mtimeNs);
        s.set(U32, a + 56, ctimeNs);
        s.set(U32, a + 60, mode);
        s.set(U32, a + 64, nlink);
        s.set(U32, a + 68, uid);
        s.set(U32, a + 72, gid);
        s.set(U32, a + 76, 0); // rdev
        s.set(U32, a + 80, blksize);
        s.set(U32, a + 84, 0); // flags
        return ATTR_OUT_SIZE;
    }

    /** fuse_open_out (16 bytes). */
    public static int openOut(MemorySegment s, long at, long fh, int openFlags) {
        s.set(U64, at, fh);
        s.set(U32, at + 8, openFlags);
        s.set(U32, at + 12, 0); // backing_id
        return OPEN_OUT_SIZE;
    }

    /** fuse_write_out (8 bytes). */
    public static int writeOut(MemorySegment s, long at, int size) {
        s.set(U32, at, size);
        s.set(U32, at + 4, 0);
        return WRITE_OUT_SIZE;
    }

    /** fuse_lseek_out (8 bytes). */
    public static int lseekOut(MemorySegment s, long at, long offset) {
        s.set(U64, at, offset);
        return LSEEK_OUT_SIZE;
    }

    /** fuse_statfs_out (80 bytes). */
    public static int statfsOut(MemorySegment s, long at, long blocks, long bfree, long bavail, long files,
            long ffree, int bsize, int namelen, int frsize) {
        s.asSlice(at, STATFS_OUT_SIZE).fill((byte) 0);
        s.set(U64, at, blocks);
        s.set(U64, at + 8, bfree);
        s.set(U64, at + 16, bavail);
        s.set(U64, at + 24, files);
        s.set(U64, at + 32, ffree);
        s.set(U32, at + 40, bsize);
        s.set(U32, at + 44, namelen);
        s.set(U32, at + 48, frsize);
        return STATFS_OUT_SIZE;
    }

    /**
     * A FUSE_NOTIFY_INVAL_INODE notification (header with unique 0 and the notify code, then
     * fuse_notify_inval_inode_out); {@code off} -1 invalidates the attributes only. Returns its length (40).
     */
    public static int notifyInvalInode(MemorySegment s, long at, long ino, long off, long len) {
        int total = OUT_HEADER_SIZE + NOTIFY_INVAL_INODE_OUT_SIZE;
        outHeader(s, at, total, NOTIFY_INVAL_INODE, 0);
        s.set(U64, at + 16, ino);
        s.set(U64, at + 24, off);
        s.set(U64, at + 32, len);
        return total;
    }
}
